"""Coverage-guided fuzzing of hsi-conform with atheris (``pip install hsi-conform[fuzz]``; Linux and macOS).

Run a target with libFuzzer flags and corpus folders (see docs/fuzzing.md)::

    hsi-conform corpus export CORPUS_DIR
    python -m hsi_conform.fuzz validator -atheris_runs=100000 CORPUS_DIR

Targets: ``validator`` (:mod:`hsi_conform.fuzz.validator_target`) and ``header``
(:mod:`hsi_conform.fuzz.header_target`). For ``header``, a corpus folder holding an exported corpus
(``manifest.json``) is replaced by ``CORPUS_DIR/headers/``, the ``data.hdr`` of each of its containers.
``--keep-going DIR`` records the first input of every distinct exception in ``DIR`` and fuzzes on, instead of
stopping at the first crash.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import importlib
import signal
import sys
import traceback
import types
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hsi_conform.errors import InternalError
from hsi_conform.members import CUBE_HEADER

TARGETS = {"header": "hsi_conform.fuzz.header_target", "validator": "hsi_conform.fuzz.validator_target"}
HEADER_SEEDS = "headers"
Target = Callable[[bytes], None]


def load_target(name: str) -> types.ModuleType:
    """Import a target module by name (``header`` or ``validator``).

    Raises:
        KeyError: no such target.
    """
    return importlib.import_module(TARGETS[name])


def instrument_package(prefix: str = "hsi_conform") -> int:
    """Add atheris coverage instrumentation to every loaded function of ``prefix`` (not this package).

    Returns:
        The number of functions instrumented.
    """
    import atheris  # type: ignore[import-untyped,unused-ignore]

    own = __name__
    funcs = [obj for obj in gc.get_objects() if isinstance(obj, types.FunctionType) and _ours(obj, prefix, own)]
    for func in funcs:
        atheris.instrument_func(func)
    return len(funcs)


def _ours(func: types.FunctionType, prefix: str, own: str) -> bool:
    module = getattr(func, "__module__", None) or ""
    return (module == prefix or module.startswith(prefix + ".")) and not module.startswith(own)


def header_seeds(corpus: Path) -> Path:
    """Write the ``data.hdr`` member of each ``.hsi`` file of ``corpus`` to ``corpus/headers/`` and return it."""
    out = corpus / HEADER_SEEDS
    out.mkdir(exist_ok=True)
    for path in sorted(corpus.glob("*.hsi")):
        data = _member(path, CUBE_HEADER)
        if data is not None:
            (out / (hashlib.sha1(data).hexdigest() + ".hdr")).write_bytes(data)
    for path in sorted(corpus.glob("*.hdr")):
        (out / path.name).write_bytes(path.read_bytes())
    return out


def _member(path: Path, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(name)
    except Exception:  # any unreadable archive simply gives no seed
        return None


def keep_going(target: Target, crashes: Path) -> Target:
    """Wrap ``target`` so that exceptions are recorded in ``crashes`` (once per type and place) instead of raised."""
    crashes.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()

    def run(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            signature = exception_signature(exc)
            if signature not in seen:
                seen.add(signature)
                digest = hashlib.sha1(data).hexdigest()
                (crashes / f"crash-{digest}").write_bytes(data)
                text = "".join(traceback.format_exception(exc))
                (crashes / f"crash-{digest}.txt").write_text(f"{signature}\n\n{text}", encoding="utf-8")
                print(f"hsi-conform fuzz: new exception {signature} -> crash-{digest}", file=sys.stderr)

    return run


def exception_signature(exc: BaseException) -> str:
    """Return ``Type@file:line`` of the innermost hsi_conform frame of an exception (its identity for dedup).

    A contract a target checks itself (an :class:`~hsi_conform.errors.InternalError` raised in the target: a rule
    crash listed in the report, a failed round trip) is identified by the head of its reason instead, which names
    what broke (``InternalError@rule crashed HDR001 KeyError``).
    """
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "hsi_conform" in f.filename and "/fuzz/" not in f.filename]
    if not ours and isinstance(exc, InternalError):
        return f"{type(exc).__name__}@{exc.reason.partition(':')[0]}"
    ours = ours or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__}@{where}"


def _split_args(argv: Sequence[str]) -> tuple[str, Path | None, list[str]]:
    if len(argv) < 2 or argv[1] not in TARGETS:
        raise SystemExit(f"usage: python -m hsi_conform.fuzz {{{','.join(TARGETS)}}} [--keep-going DIR] "
                         "[libFuzzer flags] [CORPUS_DIR ...]")
    rest = list(argv[2:])
    crashes = None
    if "--keep-going" in rest:
        i = rest.index("--keep-going")
        if i + 1 >= len(rest):
            raise SystemExit("--keep-going needs a folder")
        crashes = Path(rest[i + 1])
        del rest[i : i + 2]
    return argv[1], crashes, rest


def _corpus_args(name: str, args: list[str]) -> list[str]:
    if name != "header":
        return args
    return [str(header_seeds(Path(a))) if not a.startswith("-") and (Path(a) / "manifest.json").is_file() else a
            for a in args]


def _stop_alarm() -> None:
    """Disarm libFuzzer's ``-timeout`` timer, which could otherwise kill a slow interpreter shutdown."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a fuzz target under atheris (does not return while fuzzing; libFuzzer exits the process)."""
    import atheris  # type: ignore[import-untyped,unused-ignore]

    argv = list(sys.argv if argv is None else argv)
    name, crashes, rest = _split_args(argv)
    module = load_target(name)
    module.warm_up()
    count = instrument_package()
    print(f"hsi-conform fuzz: {name} target, {count} functions instrumented", file=sys.stderr)
    target: Target = module.test_one_input
    if crashes is not None:
        target = keep_going(target, crashes)
    atexit.register(_stop_alarm)
    atheris.Setup([argv[0], *_corpus_args(name, rest)], target)
    atheris.Fuzz()
    return 0
