"""Run the benchmark suite: ``python -m benchmarks.run [--size BYTES] [--only GROUP,...] [--no-save]``.

``BENCH_SIZE`` (bytes, default 1 GiB) sets the cube size. Results go to ``benchmarks/results/<date>-<host>.json``
and, with ``--readme``, into the table of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

from benchmarks._harness import Run, markdown_table, save

GROUPS = ("header", "open", "validate", "write", "convert", "specim", "pipeline", "batch", "cloud", "jpegxl")
README = Path(__file__).resolve().parent / "README.md"
_TABLE = re.compile(r"(<!-- results:begin -->\n).*?(<!-- results:end -->)", re.DOTALL)


def main(argv: list[str] | None = None) -> int:
    """Run the selected groups and print (and save) the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", 1 << 30)))
    parser.add_argument("--only", default=",".join(GROUPS))
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--readme", action="store_true", help="rewrite the table in benchmarks/README.md")
    args = parser.parse_args(argv)
    run = Run(size=args.size)
    for group in [g.strip() for g in args.only.split(",") if g.strip()]:
        if group not in GROUPS:
            parser.error(f"unknown group {group!r}")
        module = importlib.import_module(f"benchmarks.bench_{group}")
        module.run(run)
    table = markdown_table(run)
    print(table)
    if not args.no_save:
        print(f"saved {save(run)}")
    if args.readme:
        text = README.read_text(encoding="utf-8")
        README.write_text(_TABLE.sub(lambda m: m.group(1) + table + m.group(2), text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
