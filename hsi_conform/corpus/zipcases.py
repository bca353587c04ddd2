r"""Generator of the binary ZIP-defect cases of the golden corpus (``fixtures/container/**/input.hsi``).

Text-first cases are built from ``expanded/`` folders at test time; the cases whose defect lies in the ZIP
bytes themselves are checked in as ``input.hsi``. Every one of them is generated here from the sample members
(:func:`~hsi_conform.testing.samples.sample_members`) with :mod:`hsi_conform.testing.zipcraft`, so each is a
real container whose only defect is the one its folder names. Regenerate them with::

    python -m hsi_conform.corpus.zipcases fixtures/container          # rewrite the files that changed
    python -m hsi_conform.corpus.zipcases fixtures/container --check  # exit 1 when one is stale

:func:`clean_entries` lays the sample out like :class:`~hsi_conform.container.zipwrite.ContainerWriter` does
(stored, ``.envi`` data 4096-aligned with a 0xA11E padding extra in the local header only), so the clean archive
validates without findings and a defect case differs from it only by its defect.
"""

from __future__ import annotations

import functools
import struct
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hsi_conform._atomic import publish_bytes
from hsi_conform.container.zipwrite import ALIGN_EXTRA_ID
from hsi_conform.errors import ExitCode
from hsi_conform.members import CUBE_DATA, CUBE_HEADER, DATA_SUFFIX, EXPLORATION_DIR, METADATA_DIR, REFERENCE_DIR
from hsi_conform.testing.samples import jpeg_image, sample_members
from hsi_conform.testing.zipcraft import Entry, build

__all__ = ["ALIGN", "CASES", "INPUT", "ZipCase", "align", "clean_archive", "clean_entries", "generate", "main",
           "stale"]

ALIGN = 4096
"""Alignment of ``.envi`` data, as the container writer does it."""
INPUT = "input.hsi"
"""File name of a generated case input inside its case folder."""

_CAMERA = METADATA_DIR + "sample-camera.txt"  # a member no other rule reads: the safest one to damage
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_COUNTS, _EOCD_CD_SIZE, _EOCD_CD_OFFSET = 8, 12, 16  # field offsets inside the end record


@dataclass(frozen=True, slots=True)
class ZipCase:
    """One generated case input.

    Attributes:
        folder: Case folder relative to ``fixtures/container`` (``<ID>-<rule name>/<verdict>-<slug>``).
        make: Returns the archive bytes.
    """

    folder: str
    make: Callable[[], bytes]


def _envi(e: Entry) -> bool:
    return e.name_bytes.endswith(DATA_SUFFIX.encode())


def _record_length(e: Entry) -> int:
    return len(e.local_header()) + len(e.data) + e.sparse + len(e.data_descriptor) if e.write_local else 0


def align(entries: Iterable[Entry], *, base: int = 0) -> list[Entry]:
    """Pad the local header of every ``.envi`` entry so its data starts at a multiple of :data:`ALIGN`.

    Args:
        entries: Entries in archive order; those with an explicit local extra are left alone.
        base: Offset of the first local header (the length of prepended bytes).

    Returns:
        The entries, ``.envi`` ones with a 0xA11E padding extra in the local header only.
    """
    out: list[Entry] = []
    pos = base
    for e in entries:
        if e.write_local and _envi(e) and e.l_extra is None and not e.extra:
            pad = -(pos + len(e.local_header()) + 6) % ALIGN
            e = replace(e, l_extra=struct.pack("<HHH", ALIGN_EXTRA_ID, 2 + pad, ALIGN) + bytes(pad))
        out.append(e)
        pos += _record_length(e)
    return out


def clean_entries(changes: Mapping[str, Mapping[str, Any]] | None = None,
                  add: Iterable[Entry] = ()) -> list[Entry]:
    """Return the sample members as entries (not yet aligned), with per-member field changes and additions.

    Args:
        changes: Per member name, :class:`~hsi_conform.testing.zipcraft.Entry` fields to set.
        add: Entries appended after the sample members.

    Returns:
        The entries in archive order.
    """
    changes = changes or {}
    entries = []
    for name, data in _sample().items():
        fields = dict(changes.get(name, {}))
        entries.append(Entry(name, fields.pop("data", data), **fields))
    return [*entries, *add]


@functools.cache
def _sample_items() -> tuple[tuple[str, bytes], ...]:
    return tuple(sample_members().items())


def _sample() -> dict[str, bytes]:
    """Return the sample members, computed once (generation builds ~60 archives from them)."""
    return dict(_sample_items())


def _zip(entries: list[Entry] | None = None, **options: Any) -> bytes:
    base = len(options.get("prepend", b""))
    return build(align(clean_entries() if entries is None else entries, base=base), **options)


def clean_archive() -> bytes:
    """Return the clean sample archive every defect case starts from (it validates without findings)."""
    return _zip()


def _offsets(entries: list[Entry]) -> list[int]:
    """Local-header offsets of already aligned entries."""
    out, pos = [], 0
    for e in entries:
        out.append(pos)
        pos += _record_length(e)
    return out


def _patch_end(data: bytes, field: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of the end record (the archive must have no comment)."""
    at = len(data) - _EOCD.size + field
    return data[:at] + struct.pack(fmt, value) + data[at + struct.calcsize(fmt) :]


def _changed(name: str, **fields: Any) -> bytes:
    return _zip(clean_entries({name: fields}))


def _added(*entries: Entry) -> bytes:
    return _zip(clean_entries(add=entries))


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _unicode_path_extra(name: bytes, other: str) -> bytes:
    body = b"\x01" + struct.pack("<L", zlib.crc32(name)) + other.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def _data_descriptor() -> bytes:
    camera = _sample()[_CAMERA]
    n = len(camera)
    return _changed(_CAMERA, flags=0x08, data_descriptor=struct.pack("<4s3L", b"PK\x07\x08", zlib.crc32(camera), n, n))


def _overlap() -> bytes:
    """Build a member whose stored bytes quote another member's complete local record (no compression needed)."""
    inner = Entry("Metadata/inner.txt", b"quoted inside another member\n")
    entries = align(clean_entries(add=[Entry("Metadata/outer.bin", inner.local_header() + inner.data)]))
    outer_data = _offsets(entries)[-1] + len(entries[-1].local_header())
    return build([*entries, replace(inner, write_local=False, offset=outer_data)])


def _lfh_missing() -> bytes:
    entries = align(clean_entries())
    cube = next(i for i, e in enumerate(entries) if e.name_bytes == CUBE_DATA.encode())
    inside = _offsets(entries)[cube] + len(entries[cube].local_header()) + 100
    return build([*entries, Entry("Metadata/ghost.txt", b"ghost", write_local=False, offset=inside)])


#: The entry limit the ZIP017 case configures in its case.json (``"limits"``), so the fixture stays small.
CASE_MAX_ENTRIES = 20


def _too_many_entries() -> bytes:
    """One entry more than the case's configured limit, each a real empty member under Metadata/."""
    sample = clean_entries()
    extra = [Entry(f"Metadata/{i:04x}".encode()) for i in range(CASE_MAX_ENTRIES + 1 - len(sample))]
    return _zip([*sample, *extra])


def _long_name() -> bytes:
    return _added(Entry("Metadata/" + ("d" * 250 + "/") * 4 + "x" * 20, b"x"))


def _zip64_disagrees() -> bytes:
    data = _zip(zip64=True)
    return _patch_end(_patch_end(data, _EOCD_COUNTS, "<H", 7), _EOCD_COUNTS + 2, "<H", 7)


_TEXT = b"notes\n"

CASES: tuple[ZipCase, ...] = (
    ZipCase("ZIP001-zip-not-a-zip/valid-crafted-sample", clean_archive),
    ZipCase("ZIP001-zip-not-a-zip/error-jpeg-file", lambda: jpeg_image(12, 16)),
    ZipCase("ZIP001-zip-not-a-zip/error-empty-file", lambda: b""),
    ZipCase("ZIP002-zip-no-eocd/error-end-record-missing", lambda: clean_archive()[: -_EOCD.size]),
    ZipCase("ZIP003-zip-truncated/error-cut-inside-end-record", lambda: clean_archive()[:-5]),
    ZipCase("ZIP004-zip-cd-bounds/error-wrong-cd-offset", lambda: _zip(cd_offset=5)),
    ZipCase("ZIP004-zip-cd-bounds/error-junk-before-end-record", lambda: _zip(between_cd_and_eocd=b"JUNK" * 4)),
    ZipCase("ZIP005-zip-cd-too-large/error-declares-100-mib",
            lambda: _patch_end(clean_archive(), _EOCD_CD_SIZE, "<L", 100 << 20)),
    ZipCase("ZIP006-zip64-locator/valid-zip64-end-records", lambda: _zip(zip64=True)),
    ZipCase("ZIP006-zip64-locator/error-sentinel-without-locator",
            lambda: _patch_end(clean_archive(), _EOCD_CD_OFFSET, "<L", 0xFFFFFFFF)),
    ZipCase("ZIP007-zip64-eocd/valid-zip64-end-records", lambda: _zip(zip64=True)),
    ZipCase("ZIP007-zip64-eocd/error-classic-count-disagrees", _zip64_disagrees),
    ZipCase("ZIP008-zip-count-mismatch/error-count-lies", lambda: _zip(eocd_count=7)),
    ZipCase("ZIP009-zip-multidisk/error-disk-number", lambda: _zip(eocd_disk=1)),
    ZipCase("ZIP010-zip-multiple-eocd/valid-zip-stored-as-member",
            lambda: _added(Entry("Metadata/archive.zip", build([Entry("a.txt", _TEXT)])))),
    ZipCase("ZIP010-zip-multiple-eocd/error-fake-archive-in-comment",
            lambda: _zip(comment=build([Entry("evil.envi", b"\x00" * 8)]))),
    ZipCase("ZIP011-zip-comment-length/error-length-past-end", lambda: _zip(comment_len=5)),
    ZipCase("ZIP012-zip-comment-present/warning-comment", lambda: _zip(comment=b"acquired for the hsi-conform demo")),
    ZipCase("ZIP013-zip-prefix-data/error-jpeg-prefix", lambda: _zip(prepend=jpeg_image(8, 8))),
    ZipCase("ZIP014-zip-trailing-data/error-trailing-garbage", lambda: _zip(append=b"GARBAGE" * 10)),
    ZipCase("ZIP015-zip-gap/error-hidden-bytes-between-members",
            lambda: _changed(CUBE_HEADER, data_descriptor=b"HIDDEN")),
    ZipCase("ZIP016-zip-overlap/error-member-inside-member", _overlap),
    ZipCase("ZIP017-zip-too-many-entries/error-over-configured-limit", _too_many_entries),
    ZipCase("ZIP018-zip-lfh-missing/error-entry-without-local-header", _lfh_missing),
    ZipCase("ZIP019-zip-lfh-name-mismatch/error-local-name-differs", lambda: _changed(CUBE_HEADER, l_name=b"evil.hdr")),
    ZipCase("ZIP020-zip-lfh-mismatch/valid-local-extra-differs",
            lambda: _changed(_CAMERA, l_extra=struct.pack("<HH", 0xCAFE, 6) + bytes(6))),
    ZipCase("ZIP020-zip-lfh-mismatch/error-local-crc-differs", lambda: _changed(_CAMERA, l_crc=0xDEADBEEF)),
    ZipCase("ZIP021-zip-compressed/error-deflated-member",
            lambda: _changed(_CAMERA, method=8, plain=_sample()[_CAMERA],
                             data=_deflated(_sample()[_CAMERA]))),
    ZipCase("ZIP022-zip-stored-size/error-uncompressed-size-lies", lambda: _changed(_CAMERA, usize=10**6)),
    ZipCase("ZIP023-zip-encrypted/error-encryption-flag", lambda: _changed(_CAMERA, flags=0x01)),
    ZipCase("ZIP024-zip-patched-data/error-patched-data-flag", lambda: _changed(_CAMERA, flags=0x20)),
    ZipCase("ZIP025-zip-data-descriptor/error-data-descriptor", _data_descriptor),
    ZipCase("ZIP025-zip-data-descriptor/warning-reader-profile", _data_descriptor),
    ZipCase("ZIP026-zip-version-needed/error-version-6-3", lambda: _changed(_CAMERA, version_needed=63)),
    ZipCase("ZIP027-zip-extra-corrupt/error-extra-block-overruns",
            lambda: _changed(_CAMERA, extra=struct.pack("<HH", 0x1234, 100) + b"\0\0", l_extra=b"")),
    ZipCase("ZIP028-zip-unicode-path-extra/error-names-another-file",
            lambda: _changed(_CAMERA, extra=_unicode_path_extra(_CAMERA.encode(), "Metadata/other.txt"))),
    ZipCase("ZIP029-zip-data-bounds/error-size-runs-into-directory",
            lambda: _changed(_CAMERA, csize=10**6, usize=10**6)),
    ZipCase("ZIP030-zip-dir-with-data/valid-explicit-directories",
            lambda: _zip([Entry(METADATA_DIR), Entry(REFERENCE_DIR), *clean_entries()])),
    ZipCase("ZIP030-zip-dir-with-data/error-directory-with-payload",
            lambda: _added(Entry(EXPLORATION_DIR, b"hidden payload"))),
    ZipCase("ZIP031-zip-special-file/error-symlink",
            lambda: _added(Entry("Metadata/link", b"/etc/passwd", external_attr=0o120777 << 16))),
    ZipCase("ZIP032-zip-setuid/warning-setuid-script",
            lambda: _added(Entry("Metadata/run.sh", b"#!/bin/sh\n", external_attr=0o104755 << 16))),
    ZipCase("ZIP033-zip-name-traversal/error-dot-dot", lambda: _added(Entry("Reference/../../evil.txt", _TEXT))),
    ZipCase("ZIP034-zip-name-absolute/error-absolute-path", lambda: _added(Entry("/Metadata/evil.txt", _TEXT))),
    ZipCase("ZIP035-zip-name-backslash/error-backslash", lambda: _added(Entry("Metadata/notes\\v1.txt", _TEXT))),
    ZipCase("ZIP036-zip-name-drive/error-drive-letter", lambda: _added(Entry("C:evil.txt", _TEXT))),
    ZipCase("ZIP037-zip-name-control/error-nul-shadows-header", lambda: _added(Entry(b"data.hdr\x00.evil", _TEXT))),
    ZipCase("ZIP038-zip-name-empty/error-empty-component", lambda: _added(Entry("Metadata//notes.txt", _TEXT))),
    ZipCase("ZIP039-zip-name-too-long/error-over-1024-bytes", _long_name),
    ZipCase("ZIP040-zip-name-component-too-long/error-over-255-bytes",
            lambda: _added(Entry("Metadata/" + "a" * 300 + ".txt", _TEXT))),
    ZipCase("ZIP041-zip-name-reserved/error-windows-device-name", lambda: _added(Entry("Metadata/CON.txt", _TEXT))),
    ZipCase("ZIP042-zip-name-nonportable/error-question-mark", lambda: _added(Entry("Metadata/what?.txt", _TEXT))),
    ZipCase("ZIP043-zip-name-nonascii-noflag/valid-utf8-name-with-flag",
            lambda: _added(Entry("Metadata/mäsk.txt", _TEXT))),
    ZipCase("ZIP043-zip-name-nonascii-noflag/error-utf8-without-flag",
            lambda: _added(Entry("Metadata/mäsk.txt".encode(), _TEXT, flags=0))),
    ZipCase("ZIP044-zip-name-encoding/error-invalid-utf8",
            lambda: _added(Entry(b"Metadata/m\xe4sk.txt", _TEXT, flags=0x800))),
    ZipCase("ZIP045-zip-name-not-nfc/warning-decomposed-umlaut",
            lambda: _added(Entry("Metadata/ma\u0308sk.txt", _TEXT))),
    ZipCase("ZIP046-zip-duplicate-name/error-second-camera-file", lambda: _added(Entry(_CAMERA, b"other camera\n"))),
    ZipCase("ZIP047-zip-name-case-collision/error-case-twin",
            lambda: _added(Entry("Metadata/Sample-Camera.txt", b"other camera\n"))),
    ZipCase("ZIP048-zip-name-unicode-collision/warning-sharp-s",
            lambda: _added(Entry("Metadata/STRASSE.txt", _TEXT), Entry("Metadata/straße.txt", _TEXT))),
    ZipCase("ZIP049-zip-file-dir-conflict/error-file-used-as-directory",
            lambda: _added(Entry("Metadata/notes", _TEXT), Entry("Metadata/notes/a.txt", _TEXT))),
    ZipCase("ZIP050-zip-crc-mismatch/error-bad-cube-crc", lambda: _changed(CUBE_DATA, crc=0xDEADBEEF)),
    ZipCase("ZIP051-zip-name-too-deep/error-66-components",
            lambda: _added(Entry(METADATA_DIR + "d/" * 64 + "x.txt", _TEXT))),
    ZipCase("LAY009-lay-unaligned-data/info-unaligned-envi", lambda: build(clean_entries())),
)


def stale(root: str | Path) -> list[Path]:
    """Return the case inputs under ``root`` (``fixtures/container``) that are missing or out of date."""
    base = Path(root)
    return [base / c.folder / INPUT for c in CASES
            if not (base / c.folder / INPUT).is_file() or (base / c.folder / INPUT).read_bytes() != c.make()]


def generate(root: str | Path) -> list[Path]:
    """Write every case input under ``root`` (``fixtures/container``); return the files that changed."""
    written = []
    for case in CASES:
        path = Path(root) / case.folder / INPUT
        data = case.make()
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            publish_bytes(path, data)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> ExitCode:
    """Rewrite the case inputs under the given folder, or with ``--check`` report the stale ones."""
    args = sys.argv[1:] if argv is None else argv
    folders = [a for a in args if not a.startswith("-")] or ["fixtures/container"]
    if "--check" in args:
        paths = [p for f in folders for p in stale(f)]
        for p in paths:
            print(f"stale: {p}")
        return ExitCode.NONCONFORMANT if paths else ExitCode.OK
    for path in (p for f in folders for p in generate(f)):
        print(f"wrote {path}")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
