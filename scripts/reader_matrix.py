"""Regenerate docs/reader-matrix.md: the golden corpus read by GDAL (rasterio), SPy and hsi-conform.

Usage: ``python scripts/reader_matrix.py [--output docs/reader-matrix.md] [--jobs N] [--timeout S]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from hsi_conform.corpus.export import export_corpus
from hsi_conform.corpus.harness import BUILTIN_READERS, Reader, render_markdown, run_corpus

ROOT = Path(__file__).resolve().parent.parent
INTRO = """# Reader matrix

The golden corpus (`hsi-conform corpus export`) read by three readers through the harness protocol
(`hsi-conform corpus run --reader gdal --reader spectral --reader hsi-conform`): exit 0 accepted, 1 rejected,
anything else a crash, no answer within {timeout:g} s a timeout. Regenerate with `python scripts/reader_matrix.py`.

- **gdal**: rasterio {rasterio} (GDAL {gdal}) opens `/vsizip/{{FILE}}/data.envi` and reads every band.
- **spectral**: SPy {spectral} parses `data.hdr` with its own ENVI parser and reads every band of `data.envi` in
  place, at the offset the strict hsi-conform ZIP reader reports (a container that reader cannot open, or a
  compressed cube, is rejected before SPy sees it).
- **hsi-conform**: hsi-conform {version} validates each case at the content tier its manifest entry states
  (`check(path, content=...)`: `none` for most cases, `crc` for a wrong CRC, which only reading the data reveals).

GDAL and SPy are readers, not validators: they "accept" whatever they can read, so most of their
should-have-rejected results are expected. They show which spec violations a tolerant reader silently reads
(possibly wrongly) and which make it fail; the interesting rows are should-have-accepted, crashes and timeouts.
Implementation-defined cases (`i_`: the spec only warns) never count as failures unless the reader crashes.

{cases} cases: {accept} must be accepted, {reject} must be rejected, {impl} are implementation-defined.

"""


def _versions() -> dict[str, str]:
    import rasterio

    return {"rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__,
            "spectral": metadata.version("spectral"), "version": metadata.version("hsi-conform")}


def main(argv: list[str] | None = None) -> int:
    """Export the corpus, run the three built-in readers, write the Markdown matrix."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "reader-matrix.md")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    readers = [Reader.parse(name) for name in BUILTIN_READERS]
    with tempfile.TemporaryDirectory(prefix="hsi-matrix-") as tmp:
        files = export_corpus(tmp)
        results = run_corpus(tmp, readers, timeout=args.timeout, jobs=args.jobs)
    counts = {e: sum(f.expect == e for f in files) for e in ("accept", "reject", "implementation-defined")}
    intro = INTRO.format(timeout=args.timeout, cases=len(files), accept=counts["accept"], reject=counts["reject"],
                         impl=counts["implementation-defined"], **_versions())
    args.output.write_text(intro + render_markdown(results), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
