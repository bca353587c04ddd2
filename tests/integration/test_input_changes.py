"""An input truncated while ``convert`` streams it: exit 3, a clear message, nothing left behind (issue 11 item 13).

Streaming used to read the source through a memory map, which faults (SIGBUS) when the file shrinks. The
conversions run in one child process, so that a regression kills the child (and fails these tests), never the
test session.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from hsi_conform.errors import ExitCode

# (source format, destination name): every writer, and every reader that maps its source file.
CASES = [
    ("hsi", "out.hsi"), ("hsi", "out.hdr"), ("hsi", "out.h5"), ("hsi", "out.tif"),
    ("envi", "out.hsi"), ("envi", "out.h5"), ("tiff", "out.hsi"),
]

_CHILD = textwrap.dedent("""
    import contextlib, io, json, os, sys
    from pathlib import Path
    import numpy as np
    from hsi_conform.cli.main import main
    from hsi_conform.container.write import write_container
    from hsi_conform.converters.registry import get_converter

    SUFFIX = {"envi": ".hdr", "tiff": ".tif"}
    root = Path(sys.argv[1])
    for case in json.loads(sys.argv[2]):
        fmt, dest = case
        work = root / f"{fmt}-{dest}"
        work.mkdir()
        cube = (np.arange(64 * 20 * 48) % 4093).astype("<u2").reshape(64, 20, 48)
        wavelengths = [400.0 + 10 * b for b in range(cube.shape[1])]  # bil: lines, bands, samples; conformant
        src = write_container(work / "src.hsi", cube, interleave="bil",
                              fields={"wavelength": wavelengths, "wavelength units": "nm"})
        if fmt != "hsi":
            src = get_converter(fmt).write(get_converter("hsi").read(src), work / ("src" + SUFFIX[fmt]))
        reader = get_converter(fmt)
        real = type(reader).read

        def read(self, source, options, real=real):
            dataset = real(self, source, options)
            biggest = max(self.source_files(source), key=lambda p: p.stat().st_size)
            os.truncate(biggest, biggest.stat().st_size // 2)  # cut while the dataset still maps it
            return dataset

        type(reader).read = read
        before = sorted(p.name for p in work.iterdir())
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["convert", str(src), str(work / dest)])
        type(reader).read = real
        after = sorted(p.name for p in work.iterdir())
        print(json.dumps({"case": case, "code": int(code), "stderr": err.getvalue(), "new": sorted(set(after) -
                          set(before))}), flush=True)
""")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    pytest.importorskip("h5py")
    pytest.importorskip("tifffile")
    root = tmp_path_factory.mktemp("truncated")
    done = subprocess.run([sys.executable, "-c", _CHILD, str(root), json.dumps(CASES)], capture_output=True,
                          text=True, timeout=300, check=False)
    found = {tuple(r["case"]): r for r in map(json.loads, done.stdout.splitlines())}
    for case in CASES:  # a case the child did not finish reports how the child ended
        found.setdefault(case, {"code": None, "child": done.returncode, "stderr": done.stderr[-2000:]})
    return found  # type: ignore[return-value]


@pytest.mark.parametrize("case", CASES, ids=[f"{fmt}-to-{dest}" for fmt, dest in CASES])
def test_a_source_truncated_during_convert_exits_3_and_leaves_nothing(
        case: tuple[str, str], outcomes: dict[tuple[str, str], dict[str, Any]]) -> None:
    outcome = outcomes[case]
    assert outcome["code"] == ExitCode.UNREADABLE, outcome
    assert f"src{'.hsi' if case[0] == 'hsi' else ''}" in outcome["stderr"]  # the message names the source
    assert outcome["new"] == []  # no output, no temp file, no sidecar folder
