"""Built-in readers for the corpus harness: ``python -m hsi_conform.corpus.readers READER FILE [CONTENT]``.

Each follows the harness protocol (JSONTestSuite's): exit 0 when it reads the file, 1 when it refuses it; any
other exit (a signal, an internal error) is a crash. ``gdal`` and ``spectral`` accept a file when their library
reads every band without an error, whatever the spec says; ``hsi-conform`` accepts a file when the validator
finds it conformant (exchange profile, every content check).

- ``gdal``: rasterio (GDAL's ENVI driver) opens ``/vsizip/{FILE}/data.envi`` (GDAL finds ``data.hdr`` next to it)
  and reads every band.
- ``spectral``: the strict hsi-conform ZIP reader finds where ``data.hdr`` and ``data.envi`` are stored; SPy parses
  the header bytes with its own ENVI parser and reads every band of the cube in place, at the member's offset
  (as :func:`hsi_conform.container.interop.to_spectral` does, but without our header parser and size checks).
- ``hsi-conform``: :func:`hsi_conform.check` at the content tier ``CONTENT`` (the harness passes the tier the
  case's expectation needs; ``full``, every content check, when it is not given); an exception other than the
  documented ones exits 4 (a crash: a bug in hsi-conform). ``gdal`` and ``spectral`` read every byte anyway and
  ignore ``CONTENT``.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from hsi_conform.members import CUBE_DATA, CUBE_HEADER
from hsi_conform.rules.context import Content

ACCEPTED, REJECTED, USAGE, INTERNAL = 0, 1, 2, 4
TIERS = tuple(c.value for c in Content)


def read_gdal(path: Path, content: str = Content.FULL.value) -> None:
    """Open the cube with rasterio through ``/vsizip/`` and read every band (raises when GDAL fails)."""
    import rasterio

    del content  # GDAL reads the data whatever the tier

    with rasterio.Env(CPL_DEBUG=False), rasterio.open(f"/vsizip/{{{path.resolve()}}}/{CUBE_DATA}") as ds:
        for band in range(1, ds.count + 1):
            ds.read(band)


def read_spectral(path: Path, content: str = Content.FULL.value) -> None:
    """Read every band with SPy at the cube's offset inside the container (raises when SPy or the ZIP fails)."""
    del content  # SPy reads the data whatever the tier
    from spectral.io import envi
    from spectral.io.bilfile import BilFile
    from spectral.io.bipfile import BipFile
    from spectral.io.bsqfile import BsqFile

    from hsi_conform.container.opening import open_container
    from hsi_conform.errors import ContainerError

    with open_container(path) as container, tempfile.TemporaryDirectory(prefix="hsi-spy-") as tmp:
        cube = container.info(CUBE_DATA)
        if not cube.stored:
            raise ContainerError(CUBE_DATA, "member is not stored; SPy cannot read it in place")
        header_file = Path(tmp) / CUBE_HEADER
        header_file.write_bytes(container.read_bytes(CUBE_HEADER))
        header = envi.read_envi_header(str(header_file))
        params = envi.gen_params(header)
        params.filename = str(cube.file)
        params.offset = cube.offset + int(header.get("header offset", 0))
        interleave = str(header.get("interleave", "bsq")).strip().lower()
        image = {"bil": BilFile, "bip": BipFile}.get(interleave, BsqFile)(params, header)
        for band in range(image.nbands):
            image.read_band(band)


def read_hsi_conform(path: Path, content: str = Content.FULL.value) -> None:
    """Validate at a content tier (raises ``_Rejected`` when the container does not conform)."""
    from hsi_conform.validate import check

    if not check(path, content=content).conformant:
        raise _Rejected(str(path))


class _Rejected(Exception):
    """The reader refuses the file."""


READERS: dict[str, Callable[[Path, str], None]] = {
    "gdal": read_gdal, "spectral": read_spectral, "hsi-conform": read_hsi_conform}


def run(name: str, path: Path, content: str = Content.FULL.value) -> int:
    """Run one built-in reader on one file (at a content tier) and return its protocol exit code."""
    from hsi_conform.errors import HsiConformError

    warnings.simplefilter("ignore")
    try:
        READERS[name](path, content)
    except _Rejected:
        return REJECTED
    except HsiConformError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return REJECTED
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return INTERNAL if name == "hsi-conform" else REJECTED
    return ACCEPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``READER FILE [CONTENT]`` and run the reader."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] not in READERS or not set(args[2:]) <= set(TIERS):
        print(f"usage: python -m hsi_conform.corpus.readers {{{','.join(READERS)}}} FILE [{{{','.join(TIERS)}}}]",
              file=sys.stderr)
        return USAGE
    return run(args[0], Path(args[1]), *args[2:])


if __name__ == "__main__":
    sys.exit(main())
