"""The mutation catalogue: single defects of a valid container, each with the rule ids it must trigger.

A :class:`Mutation` turns a :class:`~hsi_conform.testing.generate.ValidContainer` into the bytes of an invalid
one. Its :attr:`Mutation.rules` is the oracle: :func:`hsi_conform.check` (content tier ``crc``) must report
exactly those rule ids at ERROR or above, and nothing else at ERROR or above. Mutations act on the member list
or the ZIP fields through :mod:`hsi_conform.testing.zipcraft`, so every other byte stays valid (sizes and CRCs
are recomputed), and :meth:`Mutation.apply` refuses to return an unchanged file::

    from hsi_conform.testing.generate import ContainerSpec, build_valid
    from hsi_conform.testing.mutations import BY_NAME, oracle

    vc = build_valid(ContainerSpec())
    bad = BY_NAME["hdr-trailing-comma"].apply(vc)
    assert oracle(bad) == {"HDR026"}
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from hsi_conform.errors import InternalError, InvalidArgumentError, MutationError
from hsi_conform.finding import Report, Severity
from hsi_conform.members import (
    BLACK,
    BOUNDING_BOXES,
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    HEADER_SUFFIX,
    METADATA_DIR,
    PREVIEW,
    THUMBNAIL,
    WHITE,
    envi_names,
    reference_stem,
)
from hsi_conform.rules.context import Content
from hsi_conform.testing._edits import (
    Apply,
    _added,
    _append,
    _before_close,
    _comment_in_list,
    _const,
    _deflated,
    _drop,
    _first_line,
    _header_edit,
    _item,
    _key,
    _line_bytes,
    _magic,
    _members,
    _prepended,
    _rebuilt,
    _remove,
    _resized,
    _swap,
    _value,
    _with_build,
    _with_entry,
)
from hsi_conform.testing.generate import ContainerSpec, ValidContainer
from hsi_conform.testing.zipcraft import Entry, build

__all__ = ["BY_NAME", "CATALOGUE", "Mutation", "MutationError", "applicable", "blocking_rules", "oracle"]



@dataclass(frozen=True, slots=True)
class Mutation:
    """One single-defect mutation.

    Attributes:
        name: Slug, also the corpus case name (``zip-compressed-member``).
        rules: Rule ids the mutant must trigger at ERROR or above (exactly these).
        summary: What the mutation does.
        needs: Optional member groups (:data:`~hsi_conform.testing.generate.FEATURES`) it needs.
        min_lines: Smallest cube line count it applies to.
        min_bands: Smallest band count it applies to.
        excludes: Optional member groups it must not meet (masks are ignored next to a classification file).
        content: The lowest content tier at which :func:`hsi_conform.check` finds the defect (``crc`` for a
            wrong CRC, which the metadata tier never reads); the exported corpus states it per case.
    """

    name: str
    rules: frozenset[str]
    summary: str
    fn: Apply
    needs: frozenset[str] = frozenset()
    min_lines: int = 1
    min_bands: int = 1
    excludes: frozenset[str] = frozenset()
    content: Content = Content.NONE

    def applies_to(self, spec: ContainerSpec) -> bool:
        """Whether the mutation applies to containers of this spec."""
        if not self.needs <= spec.features or self.excludes & spec.features:
            return False
        return spec.lines >= self.min_lines and spec.bands >= self.min_bands

    def apply(self, vc: ValidContainer, rnd: random.Random | None = None) -> bytes:
        """Return the mutant's bytes.

        Raises:
            InvalidArgumentError: the mutation does not apply to this container (a ``ValueError``).
            MutationError: the result equals the original file.
        """
        if not self.applies_to(vc.spec):
            raise InvalidArgumentError(f"mutation {self.name} does not apply to {vc.spec}")
        data = self.fn(vc, rnd or random.Random(0))
        if data == vc.data:
            raise MutationError(f"mutation {self.name} left the container unchanged")
        return data


def applicable(mutation: Mutation, spec: ContainerSpec, rnd: random.Random | None = None) -> ContainerSpec:
    """Return ``spec`` changed as little as needed for ``mutation`` to apply (features added, sizes raised)."""
    features = (spec.features | mutation.needs) - mutation.excludes
    if "lod" in features:
        features |= {"preview"}
    lines = max(spec.lines, mutation.min_lines)
    ref_lines = spec.reference_lines if spec.reference_lines in (1, lines) else lines
    return replace(spec, features=frozenset(features), lines=lines, bands=max(spec.bands, mutation.min_bands),
                   reference_lines=ref_lines)


# -- the oracle ------------------------------------------------------------------------------------------------

def blocking_rules(report: Report, at_least: Severity = Severity.ERROR) -> frozenset[str]:
    """Return the ids of the rules a report has at ``at_least`` or above.

    Raises:
        InternalError: a rule crashed (``report.internal_errors``), a validator bug (also an ``AssertionError``).
    """
    if report.internal_errors:
        raise InternalError(f"validator rule crashed: {report.internal_errors}")
    return frozenset(f.rule for f in report.findings if f.severity >= at_least)


def oracle(data: bytes, *, content: str = "crc", at_least: Severity = Severity.ERROR) -> frozenset[str]:
    """Validate container bytes (through a temp file) and return the rule ids at ``at_least`` or above."""
    from hsi_conform.validate import check

    fd, path = tempfile.mkstemp(suffix=".hsi")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return blocking_rules(check(path, content=content), at_least)
    finally:
        os.unlink(path)


# -- the catalogue -------------------------------------------------------------------------------------------

_META = frozenset({"metadata"})
_NOTES = METADATA_DIR + "notes.json"
_CLASSIFICATION = ("classification",)


def _m(name: str, rules: str, summary: str, fn: Apply, needs: Collection[str] = (), *, min_lines: int = 1,
       min_bands: int = 1, excludes: Collection[str] = (), content: Content = Content.NONE) -> Mutation:
    return Mutation(name, frozenset(rules.split()), summary, fn, frozenset(needs), min_lines, min_bands,
                    frozenset(excludes), content)


def _zip_mutations() -> list[Mutation]:
    return [
        _m("zip-deflated-member", "ZIP021", "Deflate Metadata/notes.json.", _deflated(_NOTES), _META),
        _m("zip-unknown-method", "ZIP021", "Claim method 12 (bzip2) for a stored member.",
           _with_entry(_NOTES, lambda e: replace(e, method=12)), _META),
        _m("zip-prefix-data", "ZIP013", "Prepend bytes (a JPEG/ZIP polyglot, offsets shifted).", _prepended),
        _m("zip-trailing-data", "ZIP014", "Append bytes after the end record.", _with_build(append=b"GARBAGE")),
        _m("zip-duplicate-member", "ZIP046", "Store Metadata/notes.json twice.",
           lambda vc, rnd: vc.rebuild([*vc.members, (_NOTES, vc.member(_NOTES))]), _META),
        _m("zip-name-traversal", "ZIP033", "Add a member named ../evil.txt.", _added("../evil.txt")),
        _m("zip-name-traversal-nested", "ZIP033", "Add Metadata/../../evil.txt.", _added("Metadata/../../evil.txt")),
        _m("zip-name-absolute", "ZIP034", "Add a member named /evil.txt.", _added("/evil.txt")),
        _m("zip-name-backslash", "ZIP035", "Add Metadata\\evil.txt.", _added("Metadata\\evil.txt")),
        _m("zip-name-drive", "ZIP036", "Add C:evil.txt.", _added("C:evil.txt")),
        _m("zip-name-control", "ZIP037", "Add a name with a control character.", _added("Metadata/a\x01b.txt")),
        _m("zip-name-empty-component", "ZIP038", "Add Metadata//x.txt.", _added("Metadata//x.txt")),
        _m("zip-name-dot-component", "ZIP038", "Add Metadata/./x.txt.", _added("Metadata/./x.txt")),
        _m("zip-name-component-too-long", "ZIP040", "Add a 300-byte name component.",
           _added("Metadata/" + "n" * 300 + ".txt")),
        _m("zip-name-reserved", "ZIP041", "Add the Windows device name Metadata/CON.txt.",
           _added("Metadata/CON.txt")),
        _m("zip-name-nonportable", "ZIP042", "Add Metadata/a?b.txt.", _added("Metadata/a?b.txt")),
        _m("zip-name-nonascii-noflag", "ZIP043", "Add a UTF-8 name without flag bit 11.",
           _added("Metadata/m\u00e4sk.txt".encode(), flags=0)),
        _m("zip-name-encoding", "ZIP044", "Add a name flagged UTF-8 that is not UTF-8.",
           _added(b"Metadata/m\xe4sk.txt", flags=0x800)),
        _m("zip-name-case-collision", "ZIP047", "Add Metadata/NOTES.json next to Metadata/notes.json.",
           _added("Metadata/NOTES.json"), _META),
        _m("zip-file-dir-conflict", "ZIP049", "Add a file named Metadata next to Metadata/ members.",
           _added("Metadata"), _META),
        _m("zip-dir-with-data", "ZIP030", "Add a directory entry with a payload.", _added("Metadata/", b"payload")),
        _m("zip-special-file", "ZIP031", "Make Metadata/notes.json a symbolic link.",
           _with_entry(_NOTES, lambda e: replace(e, external_attr=0o120777 << 16)), _META),
        _m("zip-encrypted", "ZIP023", "Set the encryption flag of a member.",
           _with_entry(_NOTES, lambda e: replace(e, flags=1)), _META),
        _m("zip-patched-data", "ZIP024", "Set the patched-data flag of a member.",
           _with_entry(_NOTES, lambda e: replace(e, flags=0x20)), _META),
        _m("zip-data-descriptor", "ZIP025", "Write data.hdr with a data descriptor.",
           _with_entry(CUBE_HEADER, _descriptor)),
        _m("zip-version-needed", "ZIP026", "Need version 6.3 to extract data.hdr.",
           _with_entry(CUBE_HEADER, lambda e: replace(e, version_needed=63, l_version_needed=63))),
        _m("zip-lfh-name-mismatch", "ZIP019", "Spell the local header's name differently.",
           _with_entry(CUBE_HEADER, lambda e: replace(e, l_name=b"data.hdx"))),
        _m("zip-lfh-crc-mismatch", "ZIP020", "Let the local header's CRC disagree with the directory.",
           _with_entry(CUBE_HEADER, lambda e: replace(e, l_crc=e.real_crc ^ 1))),
        _m("zip-stored-size", "ZIP022", "Give a stored member an uncompressed size that differs.",
           _with_entry(_NOTES, lambda e: replace(e, usize=e.real_csize + 7)), _META),
        _m("zip-crc-mismatch", "ZIP050", "Write a wrong CRC-32 for data.envi (directory and local header).",
           _with_entry(CUBE_DATA, lambda e: replace(e, crc=e.real_crc ^ 0xDEADBEEF)), content=Content.CRC),
        _m("zip-count-mismatch", "ZIP008", "Write a wrong entry count into the end record.",
           lambda vc, rnd: build(vc.entries(), eocd_count=len(vc.members) + 1)),
        _m("zip-multidisk", "ZIP009", "Write disk number 1 into the end record.", _with_build(eocd_disk=1)),
        _m("zip-comment-length", "ZIP011", "Claim a longer archive comment than present.",
           _with_build(comment_len=40)),
        _m("zip-cd-bounds", "ZIP004", "Put bytes between the central directory and the end record.",
           _with_build(between_cd_and_eocd=b"JUNKJUNK")),
        _m("zip-gap", "ZIP015", "Hide bytes between two members.",
           _with_entry(CUBE_HEADER, lambda e: replace(e, data_descriptor=b"hidden bytes"))),
        _m("zip-truncated-eocd", "ZIP003", "Cut the last 5 bytes of the end record.", lambda vc, rnd: vc.data[:-5]),
        _m("zip-extra-corrupt", "ZIP027", "Give data.hdr an extra field whose length overruns it.",
           _with_entry(CUBE_HEADER, lambda e: replace(e, extra=b"\x99\x99\x64\x00ab", l_extra=None))),
        _m("zip-unicode-path-extra", "ZIP028", "Add a Unicode Path extra (0x7075) naming another file.",
           _with_entry(CUBE_HEADER, _unicode_path)),
        _m("zip-overlap", "ZIP016 ZIP019", "Add a directory entry that points at data.hdr's local header.",
           _overlap),
    ]


def _descriptor(e: Entry) -> Entry:
    dd = b"PK\x07\x08" + e.real_crc.to_bytes(4, "little") + e.real_csize.to_bytes(4, "little") * 2
    return replace(e, flags=8, data_descriptor=dd)


def _unicode_path(e: Entry) -> Entry:
    other = b"evil.hdr"
    body = b"\x01" + zlib.crc32(e.name_bytes).to_bytes(4, "little") + other
    extra = b"\x75\x70" + len(body).to_bytes(2, "little") + body
    return replace(e, extra=extra, l_extra=None)


def _overlap(vc: ValidContainer, rnd: random.Random) -> bytes:
    entries = vc.entries()
    first = next(e for e in entries)
    offset = 0
    twin = replace(first, name="Metadata/twin.txt", write_local=False, offset=offset, l_extra=None)
    return build([*entries, twin])


def _layout_mutations() -> list[Mutation]:
    return [
        _m("lay-no-data-header", "LAY001", "Drop data.hdr.", _rebuilt(lambda m: _drop(m, CUBE_HEADER))),
        _m("lay-no-data", "LAY002", "Drop data.envi.", _rebuilt(lambda m: _drop(m, CUBE_DATA))),
        _m("lay-mandatory-name-case", "LAY001 LAY003", "Rename data.hdr to Data.hdr.",
           _rebuilt(lambda m: [("Data.hdr" if n == CUBE_HEADER else n, c) for n, c in m])),
        _m("lay-reference-header-missing", "LAY005", "Drop Reference/white.hdr.",
           _rebuilt(lambda m: _drop(m, reference_stem(WHITE) + HEADER_SUFFIX)), ("references",)),
        _m("lay-reference-data-missing", "LAY006", "Drop Reference/black.envi.",
           _rebuilt(lambda m: _drop(m, reference_stem(BLACK) + DATA_SUFFIX)), ("references",)),
        _m("lay-preview-data-missing", "LAY006", "Drop preview.envi.",
           _rebuilt(lambda m: _drop(m, PREVIEW + DATA_SUFFIX)), ("preview",)),
    ]


def _header_mutations() -> list[Mutation]:
    h = _header_edit
    return [
        _m("hdr-key-case", "HDR015", "Upper-case the key of interleave.", h(_key("interleave", str.upper))),
        _m("hdr-trailing-comma", "HDR026", "End the wavelength list with a comma.",
           h(_value("wavelength", _before_close(",")))),
        _m("hdr-unclosed-list", "HDR024", "Append a list that is never closed.", h(_append("mutated field = {a, b"))),
        _m("hdr-duplicate-key", "HDR017", "Repeat byte order with the same value.",
           h(lambda t, hd, vc: _append(f"byte order = {int(vc.spec.byte_order)}")(t, hd, vc))),
        _m("hdr-indented-entry", "HDR019", "Indent the samples entry.", h(_key("samples", lambda k: "  " + k))),
        _m("hdr-junk-line", "HDR012", "Add a line that is not key = value.", h(_append("this is not an entry"))),
        _m("hdr-bom", "HDR002", "Start data.hdr with a byte order mark.", h(_first_line("\ufeff"))),
        _m("hdr-nul", "HDR003", "Put a NUL character into a value.", h(_append("mutated field = a\x00b"))),
        _m("hdr-magic-trailing-text", "HDR005", "Write ENVIRONMENT as the first line.", h(_magic("ENVIRONMENT"))),
        _m("hdr-magic-indented", "HDR004", "Indent the magic ENVI.", h(_magic(" ENVI"))),
        _m("hdr-comment-in-list", "HDR022", "Put a comment line inside the wavelength braces.",
           h(_value("wavelength", _comment_in_list))),
        _m("hdr-text-after-list", "HDR023", "Write text after the closing brace of wavelength.",
           h(_value("wavelength", lambda old, vc: old + " nm"))),
        _m("hdr-empty-item", "HDR027", "Add a list with an empty item.", h(_append("mutated field = {a,, b}"))),
        _m("hdr-brace-in-scalar", "HDR029", "Put a brace into a scalar value.", h(_append("mutated field = a}b"))),
        _m("hdr-value-on-next-line", "HDR012 HDR031", "Start a list on the line after its key.",
           h(_append("mutated field =\n{a, b}"))),
        _m("hdr-not-utf8", "HDR001", "Put a Latin-1 byte into a value.", h(_append("mutated field = caf\udce9"))),
        _m("hdr-empty-key", "HDR013", "Add an entry without a key.", h(_append("= value"))),
        _m("hdr-line-too-long", "HDR011", "Add a line longer than 10,000 bytes.",
           h(_append("mutated field = " + "x" * 10_001))),
        _m("hdr-nesting-too-deep", "HDR025", "Nest braces 5 deep.", h(_append("mutated field = {{{{{a}}}}}"))),
        _m("hdr-key-charset", "HDR014", "Put a control character into a key.", h(_append("oper\x01ator = a"))),
    ]


def _field_mutations() -> list[Mutation]:
    h = _header_edit
    return [
        _m("fld-missing-bands", "FLD001", "Remove bands from data.hdr.", h(_remove("bands"))),
        _m("fld-missing-wavelength", "FLD001", "Remove wavelength from data.hdr.", h(_remove("wavelength"))),
        _m("fld-missing-file-type", "FLD002", "Remove file type from data.hdr.", h(_remove("file type"))),
        _m("fld-missing-byte-order", "FLD002", "Remove byte order from data.hdr.", h(_remove("byte order"))),
        _m("fld-wavelength-count", "FLD008", "Add one wavelength too many.",
           h(_value("wavelength", _before_close(", 1999.5")))),
        _m("fld-data-type-7", "FLD005", "Set data type 7 (undefined).", h(_value("data type", _const("7")))),
        _m("fld-interleave-invalid", "FLD005", "Set interleave bsx.", h(_value("interleave", _const("bsx")))),
        _m("fld-byte-order-invalid", "FLD005", "Set byte order 2.", h(_value("byte order", _const("2")))),
        _m("fld-samples-not-number", "FLD004", "Write samples as a word.", h(_value("samples", _const("four")))),
        _m("fld-temperature-not-number", "FLD004", "Write temperature as a word.",
           h(_value("temperature", _const("warm")))),
        _m("fld-wavelength-negative", "FLD009", "Make the first wavelength negative.",
           h(_value("wavelength", lambda old, vc: "{-" + old[1:].lstrip()))),
        _m("fld-default-bands-zero", "FLD009", "Set default bands {0}.", h(_value("default bands", _const("{0}")))),
        _m("fld-acquisition-time", "FLD012", "Set an acquisition time that is not a calendar date.",
           h(_value("acquisition time", _const("2025-02-30")))),
        _m("fld-pixel-size", "FLD017", "Set a negative pixel size.", h(_value("pixel size", _const("{-1, 2}")))),
        _m("fld-read-procedure", "FLD019", "Set read procedures {rotate:sideways}.",
           h(_value("read procedures", _const("{rotate:sideways}")))),
        _m("fld-crop-out-of-bounds", "FLD022", "Crop beyond the last sample.",
           h(_value("read procedures", lambda old, vc: f"{{crop:{{0:{vc.spec.samples}, 0:0, 0:0}}}}"))),
        _m("fld-file-type-root", "FLD006", "Set file type ENVI Classification in data.hdr.",
           h(_value("file type", _const("ENVI Classification")))),
        _m("fld-nested-list", "FLD013", "Nest a list inside optics.", h(_value("optics", _const("{macro, {x}}")))),
        _m("fld-file-reference-invalid", "FLD023", "Let bounding boxes name ../boxes.csv.",
           h(_value("bounding boxes", _const("../boxes.csv")))),
        _m("fld-file-reference-missing", "FLD024", "Let bounding boxes name a missing file.",
           h(_value("bounding boxes", _const("missing.csv")))),
        _m("fld-class-lookup-count", "FLD008", "Add a colour to class lookup.",
           h(_value("class lookup", _before_close(", 1, 2, 3"))), ("masks",)),
    ]


def _xrf_mutations() -> list[Mutation]:
    return [
        _m("xrf-data-short", "XRF001", "Truncate data.envi by one line.",
           lambda vc, rnd: vc.rebuild(_swap(_members(vc), CUBE_DATA, vc.member(CUBE_DATA)[: -_line_bytes(vc)]))),
        _m("xrf-data-long", "XRF002", "Append bytes to data.envi.",
           lambda vc, rnd: vc.rebuild(_swap(_members(vc), CUBE_DATA, vc.member(CUBE_DATA) + b"\0" * 3))),
        _m("xrf-reference-samples", "XRF003", "Give the white reference one sample more.",
           _resized(reference_stem(WHITE), "samples", 1,
                    lambda vc: vc.spec.reference_lines * vc.spec.bands * _item(vc)),
           ("references",)),
        _m("xrf-preview-larger", "XRF004", "Give the preview one line more than the cube.",
           _preview_larger, ("preview",)),
        _m("xrf-mask-missing", "XRF005", "Drop the mask files of the first class.",
           lambda vc, rnd: vc.rebuild(_drop(_members(vc), *envi_names(EXPLORATION_DIR + vc.class_names[0]))),
           ("masks",),
           excludes=_CLASSIFICATION),
        _m("xrf-mask-dims", "XRF006", "Give the first mask one sample more.",
           lambda vc, rnd: _resized(EXPLORATION_DIR + vc.class_names[0], "samples", 1,
                                    lambda v: v.spec.lines)(vc, rnd), ("masks",),
           excludes=_CLASSIFICATION),
        _m("xrf-classification-dims", "XRF007", "Give the classification file one line more.",
           _resized(EXPLORATION_DIR + "classification", "lines", 1, lambda vc: vc.spec.samples), ("classification",)),
        _m("xrf-classification-classes", "XRF009", "Rename a class in the classification file only.",
           _header_edit(_value("class names", lambda old, vc: "{" + ", ".join(["zzz", *vc.class_names[1:]]) + "}"),
                        EXPLORATION_DIR + "classification" + HEADER_SUFFIX), ("classification", "masks")),
        _m("xrf-bbox-encoding", "XRF010", "Write a bounding-box CSV that is not UTF-8.",
           _bbox(lambda csv: csv + b"caf\xe9,0,0,1,1\n"), ("bboxes",)),
        _m("xrf-bbox-row", "XRF011", "Add a bounding box row with four cells.",
           _bbox(lambda csv: csv + b"object,0,0,1\n"), ("bboxes",)),
        _m("xrf-bbox-outside", "XRF012", "Add a bounding box that leaves the image.",
           lambda vc, rnd: _bbox(lambda csv: csv + f"object,{vc.spec.samples},0,1,1\n".encode())(vc, rnd),
           ("bboxes",)),
        _m("xrf-thumbnail-not-jpeg", "XRF014", "Replace the thumbnail by PNG bytes.",
           _rebuilt(lambda m: _swap(m, THUMBNAIL, b"\x89PNG\r\n\x1a\n not a jpeg")), ("thumbnail",)),
    ]


def _bbox(change: Callable[[bytes], bytes]) -> Apply:
    name = BOUNDING_BOXES

    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        csv = vc.member(name)
        if not csv.endswith(b"\n"):
            csv += b"\n"
        return vc.rebuild(_swap(_members(vc), name, change(csv.replace(b"\r\n", b"\n"))))
    return apply


def _preview_larger(vc: ValidContainer, rnd: random.Random) -> bytes:
    text = vc.member(PREVIEW + HEADER_SUFFIX).decode()
    rows = -(-vc.spec.lines // 2)
    extra = vc.spec.lines + 1 - rows
    return _resized(PREVIEW, "lines", extra, lambda v: -(-v.spec.samples // 2) * v.spec.bands * _item(v))(
        vc, rnd) if text else vc.data


def _catalogue() -> tuple[Mutation, ...]:
    out = [*_zip_mutations(), *_layout_mutations(), *_header_mutations(), *_field_mutations(), *_xrf_mutations()]
    names = [m.name for m in out]
    assert len(names) == len(set(names)), "duplicate mutation names"
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)
    return tuple(out)


#: Every mutation, ZIP first, then LAY, HDR, FLD and XRF.
CATALOGUE: tuple[Mutation, ...] = _catalogue()
#: The catalogue by mutation name.
BY_NAME: dict[str, Mutation] = {m.name: m for m in CATALOGUE}
