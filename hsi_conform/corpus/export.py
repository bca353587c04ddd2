"""Export the golden corpus as one self-describing file per case, for third-party readers.

Each file is named like a JSONTestSuite case: ``y_<RULE>_<slug>.hsi`` must be accepted, ``n_<RULE>_<slug>.hsi``
must be rejected, ``i_<RULE>_<slug>.hsi`` is implementation-defined (the spec only warns or informs), and
``g_<name>.hsi`` are generated cases (:func:`generate_cases`: valid containers from
:mod:`hsi_conform.testing.generate` and single-defect mutants from :mod:`hsi_conform.testing.mutations`).
``manifest.json`` carries the exact expectation of every file::

    {"cases": [{"file": "n_HDR015_upper-case-samples.hsi", "expect": "reject", "content": "none",
                "rules": ["HDR015"], "spec": ["header-syntax.md#key-case"],
                "fixtures": ["header-syntax/HDR015-hdr-key-case/..."]}]}

Expectations are those of the default ``exchange`` profile. ``content`` is the content tier the expectation needs
(:class:`~hsi_conform.rules.context.Content`): a validator checking that much of the member data, or more, must
reach it. Most defects show in the metadata (``none``); ``n_ZIP050_bad-cube-crc.hsi`` is rejected from ``crc``
on, because only reading the data reveals a wrong CRC, and the default metadata tier accepts it. A golden file's
tier is the lowest of the cases that give it its expectation (a case's ``content``, default ``none``); a generated
mutant's is its mutation's :attr:`~hsi_conform.testing.mutations.Mutation.content`. Golden cases that build the
same bytes are merged into one file (the sample container is the valid example of many rules): the file is as
bad as the worst of its exchange-profile cases. A case graded under another profile only says something about
the exchange verdict when the profile is more lenient and still errs (``reader``), or stricter and still finds
nothing (``strict``); otherwise, and for cases graded under non-default ZIP limits, its file is
implementation-defined.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hsi_conform._atomic import atomic_each
from hsi_conform.corpus.golden import FIXTURES, Case, case_members, load_cases
from hsi_conform.errors import InputUnreadableError, InvalidArgumentError
from hsi_conform.rules import get_rule, load_builtin_rules
from hsi_conform.rules.context import Content
from hsi_conform.testing.generate import FEATURES, build_valid, random_spec
from hsi_conform.testing.mutations import CATALOGUE, applicable
from hsi_conform.testing.samples import write_members

Expect = Literal["accept", "reject", "implementation-defined"]
ACCEPT: Expect = "accept"
REJECT: Expect = "reject"
IMPLEMENTATION: Expect = "implementation-defined"
PREFIX: dict[str, str] = {ACCEPT: "y", REJECT: "n", IMPLEMENTATION: "i"}
MANIFEST = "manifest.json"
_RANK = {ACCEPT: 0, IMPLEMENTATION: 1, REJECT: 2}
_SLUG = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass(slots=True)
class CorpusFile:
    """One exported file and its manifest entry."""

    file: str
    expect: Expect
    data: bytes
    rules: list[str] = field(default_factory=list)
    spec: list[str] = field(default_factory=list)
    fixtures: list[str] = field(default_factory=list)
    content: Content = Content.NONE

    def entry(self) -> dict[str, Any]:
        """Return the manifest entry (``fixtures`` only for golden cases)."""
        out: dict[str, Any] = {"file": self.file, "expect": self.expect, "content": self.content.value,
                               "rules": self.rules, "spec": self.spec}
        if self.fixtures:
            out["fixtures"] = self.fixtures
        return out


def case_expectation(case: Case) -> Expect | None:
    """Return what a case says about its file under the exchange profile (``None``: nothing definite)."""
    profile = case.data.get("profile", "exchange")
    if case.data.get("limits"):
        return None  # graded under non-default ZIP limits: says nothing about the defaults
    if profile == "exchange":
        return {"valid": ACCEPT, "error": REJECT}.get(case.verdict, IMPLEMENTATION)
    if profile == "reader":
        return REJECT if case.verdict == "error" else None
    if profile == "strict":
        return ACCEPT if case.verdict == "valid" else None
    return None


def merged_expectation(cases: Iterable[Case]) -> Expect:
    """Return the expectation of a file built by several cases (exchange-profile cases decide first)."""
    cases = list(cases)
    exchange = [e for e in (case_expectation(c) for c in cases if _is_default(c)) if e is not None]
    if exchange:
        return max(exchange, key=_RANK.__getitem__)
    others = {case_expectation(c) for c in cases} - {None}
    if len(others) == 1:
        return others.pop()  # type: ignore[return-value]
    return IMPLEMENTATION


def case_content(case: Case) -> Content:
    """Return the content tier a case is graded under (its ``content``, default ``none``)."""
    return Content(case.data.get("content", Content.NONE.value))


def merged_content(cases: Iterable[Case], expect: Expect) -> Content:
    """Return the content tier a file's expectation needs: the lowest of the cases that give it that expectation.

    A reject holds at every tier from the lowest rejecting case's on (more checks never clear a finding); an accept
    holds at every tier. When no case gives the file's expectation on its own (a merge of differing cases), the
    highest tier of its cases is stated.
    """
    cases = list(cases)
    tiers = list(Content)
    agreeing = [tiers.index(case_content(c)) for c in cases if case_expectation(c) == expect]
    if agreeing:
        return tiers[min(agreeing)]
    return tiers[max((tiers.index(case_content(c)) for c in cases), default=0)]


def _is_default(case: Case) -> bool:
    return case.data.get("profile", "exchange") == "exchange" and not case.data.get("limits")


def case_rule(case: Case) -> str:
    """Return the rule id a case folder belongs to (``HDR015`` for ``HDR015-hdr-key-case/…``)."""
    return case.path.parent.name.split("-", 1)[0]


def case_slug(case: Case) -> str:
    """Return the case folder name without its verdict prefix, made file-name safe."""
    return slugify(case.path.name.split("-", 1)[-1])


def slugify(text: str) -> str:
    """Return ``text`` with every run of characters other than ASCII letters, digits, ``.`` and ``-`` as ``-``."""
    return _SLUG.sub("-", text).strip("-.") or "case"


def case_bytes(case: Case) -> tuple[bytes, str]:
    """Return a case's input as one file's bytes and its suffix (``.hsi``, or ``.hdr`` for a bare header)."""
    source = case.data.get("input", "sample")
    if source not in ("sample", "expanded"):
        suffix = ".hdr" if source.endswith(".hdr") else ".hsi"
        return (case.path / source).read_bytes(), suffix
    with tempfile.TemporaryDirectory(prefix="hsi-export-") as tmp:
        return write_members(Path(tmp) / "case.hsi", case_members(case)).read_bytes(), ".hsi"


def golden_files(cases: Iterable[Case] | None = None) -> list[CorpusFile]:
    """Build one :class:`CorpusFile` per distinct input of the golden cases."""
    groups: dict[str, tuple[bytes, str, list[Case]]] = {}
    for case in load_cases() if cases is None else cases:
        data, suffix = case_bytes(case)
        key = hashlib.sha256(data).hexdigest() + suffix
        groups.setdefault(key, (data, suffix, []))[2].append(case)
    files = [_golden_file(data, suffix, group) for data, suffix, group in groups.values()]
    return _unique_names(files)


def _golden_file(data: bytes, suffix: str, cases: list[Case]) -> CorpusFile:
    expect = merged_expectation(cases)
    primary = min(cases, key=lambda c: (_representative(c, expect), c.id))
    if expect == ACCEPT:
        rules = sorted({case_rule(c) for c in cases})
    else:
        rules = sorted({r for c in cases for r in c.rules}) or [case_rule(primary)]
    spec = sorted({s for c in cases for s in c.data.get("spec", [])})
    name = f"{PREFIX[expect]}_{case_rule(primary)}_{case_slug(primary)}{suffix}"
    return CorpusFile(name, expect, data, rules, spec, sorted(c.id for c in cases), merged_content(cases, expect))


def _representative(case: Case, expect: Expect) -> int:
    """Rank cases for naming a merged file: an exchange case with the file's verdict first."""
    return (0 if case_expectation(case) == expect else 2) + (0 if _is_default(case) else 1)


def generated_files(n: int, seed: int) -> list[CorpusFile]:
    """Return ``n`` generated cases (``g_…``) from :func:`generate_cases`."""
    files = []
    for case in generate_cases(n, seed):
        expect: Expect = REJECT if case.expect == REJECT else ACCEPT
        name = case.name.removeprefix("gen-")
        files.append(CorpusFile(f"g_{slugify(name)}.hsi", expect, bytes(case.data), sorted(case.rules),
                                sorted(case.spec), content=case.content))
    return _unique_names(files)


# -- generated cases --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GeneratedCase:
    """One generated corpus case.

    Attributes:
        name: A slug (``gen-0007-zip-compressed-member``) without verdict prefix or extension.
        data: The ``.hsi`` bytes.
        expect: ``"accept"`` for valid containers, ``"reject"`` for mutants.
        rules: Rule ids a conforming validator reports at ERROR or above (empty for ``accept``).
        spec: The spec anchors of those rules.
        content: The content tier the expectation needs (a valid container passes every tier: ``none``).
    """

    name: str
    data: bytes
    expect: Literal["accept", "reject"]
    rules: tuple[str, ...]
    spec: tuple[str, ...]
    content: Content = Content.NONE


def generate_cases(n: int, seed: int) -> Iterator[GeneratedCase]:
    """Yield ``n`` generated cases, alternately valid containers and single-defect mutants, deterministic per seed.

    Mutations cycle through the catalogue (in a seed-dependent order), so ``n`` >= 2 x the catalogue size covers
    every mutation.

    Raises:
        InvalidArgumentError: ``n`` is negative (a ``ValueError``).
    """
    if n < 0:
        raise InvalidArgumentError("n must be >= 0")
    rnd = random.Random(seed)
    order = list(CATALOGUE)
    rnd.shuffle(order)
    for i in range(n):
        if i % 2 == 0:
            vc = build_valid(random_spec(rnd), rnd)
            slug = f"gen-{i:04d}-valid-{vc.spec.data_type.name.lower()}-{vc.spec.interleave.value}"
            yield GeneratedCase(slug, vc.data, "accept", (), ())
            continue
        mutation = order[(i // 2) % len(order)]
        spec = random_spec(rnd, features=mutation.needs | frozenset(f for f in FEATURES if rnd.random() < 0.3))
        spec = applicable(mutation, spec, rnd)
        vc = build_valid(spec, rnd)
        rules = tuple(sorted(mutation.rules))
        yield GeneratedCase(f"gen-{i:04d}-{mutation.name}", mutation.apply(vc, rnd), "reject", rules,
                            tuple(_anchor(r) for r in rules), mutation.content)


@functools.cache
def _anchor(rule_id: str) -> str:
    load_builtin_rules()
    return get_rule(rule_id).spec


def _unique_names(files: list[CorpusFile]) -> list[CorpusFile]:
    seen: set[str] = set()
    for f in sorted(files, key=lambda f: (f.file, f.fixtures)):
        stem, dot, suffix = f.file.rpartition(".")
        candidate, i = f.file, 1
        while candidate in seen:
            i += 1
            candidate = f"{stem}-{i}{dot}{suffix}"
        f.file = candidate
        seen.add(candidate)
    return sorted(files, key=lambda f: f.file)


def export_corpus(directory: str | Path, *, generate: int = 0, seed: int = 0,
                  cases: Iterable[Case] | None = None) -> list[CorpusFile]:
    """Write the golden (and ``generate`` generated) cases and ``manifest.json`` into ``directory``.

    The output is deterministic: the same fixtures, ``generate`` and ``seed`` give the same bytes. Every file is
    published atomically, the manifest last, so a manifest present lists only complete files.

    Raises:
        InputUnreadableError: there is no case to write (no golden case found and none generated); nothing is
            written, since an empty corpus would let every reader pass.
    """
    files = golden_files(cases)
    if generate > 0:
        files += generated_files(generate, seed)
    if not files:
        source = str(FIXTURES) if cases is None else "the given cases"
        raise InputUnreadableError(source, "no golden case found and none generated (--generate N)")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"cases": [f.entry() for f in files]}
    with atomic_each(*(out / f.file for f in files), out / MANIFEST) as temps:
        for f, temp in zip(files, temps[:-1], strict=True):
            temp.write_bytes(f.data)
        temps[-1].write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return files


def read_manifest(directory: str | Path) -> list[dict[str, Any]]:
    """Return the manifest entries of an exported corpus, in file order.

    An entry without ``content`` (a manifest written before it was stated) gets ``"none"``.

    Raises:
        FileNotFoundError: the directory has no ``manifest.json``.
        ValueError: the manifest is not an object with a ``cases`` list of entries with ``file``, ``expect`` and
            (when present) a ``content`` tier.
    """
    raw = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
    cases = raw.get("cases") if isinstance(raw, dict) else None
    if not isinstance(cases, list) or not all(_is_entry(c) for c in cases):
        raise ValueError(f"{directory}: {MANIFEST} is not a corpus manifest")
    return sorted(({"content": Content.NONE.value, **c} for c in cases), key=lambda c: str(c["file"]))


def _is_entry(entry: object) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("file"), str)
            and entry.get("expect") in (ACCEPT, REJECT, IMPLEMENTATION)
            and entry.get("content", Content.NONE.value) in {c.value for c in Content})
