"""The member names of a container: the one table of the layout of D4.1 §2.2 (spec/container.md#layout).

Every module that names a member (the reader, the writers, the rules, the converters, the test kit) takes the
name, the pattern or the pairing from here, so a renamed member or a new documented location is one edit.

Names are ZIP paths and case-sensitive (spec/container.md#names): ``Data.hdr`` is not :data:`CUBE_HEADER`. This
module classifies names as they are spelled; what a case variant was meant to be is the layout rules' business
(``rules/layout.py``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum

from hsi_conform.fields import Scope

__all__ = [
    "BLACK",
    "BOUNDING_BOXES",
    "BOUNDING_BOXES_FILE",
    "CALIBRATION_RECORD",
    "CALIBRATION_REFERENCES",
    "CUBE_DATA",
    "CUBE_HEADER",
    "CUBE_INDEX",
    "CUBE_STEM",
    "DATA_SUFFIX",
    "DOCUMENTED_DIRS",
    "EXPLORATION_DIR",
    "HEADER_SUFFIX",
    "IMPORTED_METADATA",
    "MANDATORY",
    "METADATA_DIR",
    "PREVIEW",
    "PREVIEW_PATTERN",
    "PREVIEW_PATTERN_ANY_CASE",
    "REFERENCES",
    "REFERENCE_DIR",
    "REFERENCE_NAMES",
    "ROOT_NAMES",
    "SOURCE_REPORT",
    "THUMBNAIL",
    "WHITE",
    "WHITE_DARK",
    "Classified",
    "MemberKind",
    "MemberPair",
    "MemberTree",
    "classify_member",
    "data_of",
    "envi_names",
    "header_of",
    "preview_stem",
    "reference_stem",
    "scope_of",
]

HEADER_SUFFIX = ".hdr"
"""Suffix of an ENVI header member."""
DATA_SUFFIX = ".envi"
"""Suffix of an ENVI data member (the header of ``x.envi`` is ``x.hdr``; spec/container.md#pairs)."""

CUBE_STEM = "data"
"""Stem of the cube's ENVI pair."""
CUBE_HEADER = CUBE_STEM + HEADER_SUFFIX
"""``data.hdr``, the metadata hub, mandatory (spec/container.md#mandatory-members)."""
CUBE_DATA = CUBE_STEM + DATA_SUFFIX
"""``data.envi``, the hypercube, mandatory."""
MANDATORY: tuple[str, ...] = (CUBE_HEADER, CUBE_DATA)
"""The mandatory members, header first."""
CUBE_INDEX = CUBE_STEM + ".jxl.json"
"""``data.jxl.json``, the band-group index of a JPEG-XL cube (``file type = JPEGXL``; spec/jpegxl.md#index)."""
THUMBNAIL = "thumbnail.jpg"
"""The optional JPEG thumbnail; only the root member is the thumbnail."""

PREVIEW = "preview"
"""Stem of the preview without a level of detail (``preview.hdr``/``preview.envi``)."""
PREVIEW_PATTERN = re.compile(r"preview(?:_(?P<lod>[^/]+))?\.(?P<ext>hdr|envi)")
"""A root preview member (use ``fullmatch``): groups ``lod`` (None for ``preview.*``) and ``ext`` (``hdr``/``envi``).

The ``<lod>`` is one or more characters other than ``/``, so ``preview_.hdr`` is not a preview
(spec/container.md#preview-lod).
"""
PREVIEW_PATTERN_ANY_CASE = re.compile(PREVIEW_PATTERN.pattern, re.IGNORECASE)
""":data:`PREVIEW_PATTERN` ignoring case, to find misspelt previews (``Preview.HDR``)."""

ROOT_NAMES: tuple[str, ...] = (CUBE_HEADER, CUBE_DATA, CUBE_INDEX, THUMBNAIL, PREVIEW + HEADER_SUFFIX,
                               PREVIEW + DATA_SUFFIX)
"""The fixed documented root names (the ``preview_<lod>`` members match :data:`PREVIEW_PATTERN` instead)."""

REFERENCE_DIR = "Reference/"
"""Calibration files of any format; the ENVI pairs directly in it are the references."""
EXPLORATION_DIR = "Exploration/"
"""Classification files, masks and bounding boxes of any format; every ENVI file in it is paired."""
METADATA_DIR = "Metadata/"
"""Files of any format (camera files named by ``sensor type``); a ``.hdr`` here is not an ENVI header."""
DOCUMENTED_DIRS: tuple[str, ...] = tuple(d.rstrip("/") for d in (REFERENCE_DIR, EXPLORATION_DIR, METADATA_DIR))
"""The documented sub-directories, without the trailing slash."""

WHITE = "white"
"""Stem of the white reference in :data:`REFERENCE_DIR`."""
BLACK = "black"
"""Stem of the black (dark) reference in :data:`REFERENCE_DIR`."""
WHITE_DARK = "whitedark"
"""Stem of the white's own dark reference in :data:`REFERENCE_DIR`: the dark taken with the white (SPECIM IQ's
``WHITEDARKREF_``), which the calibration subtracts from the white instead of :data:`BLACK`
(spec/calibration.md#white-dark)."""
REFERENCES: tuple[str, ...] = (WHITE, BLACK)
"""The references of D4.1 §2.2, white first (the converters carry these two as arrays of their datasets)."""
CALIBRATION_REFERENCES: tuple[str, ...] = (*REFERENCES, WHITE_DARK)
"""Every reference the calibration reads (spec/calibration.md#references): the documented references, whose
names, pairs and dimensions the layout and consistency rules check."""
REFERENCE_NAMES: tuple[str, ...] = tuple(s + x for s in CALIBRATION_REFERENCES for x in (HEADER_SUFFIX, DATA_SUFFIX))
"""The documented file names inside :data:`REFERENCE_DIR` (``white.hdr``, ``white.envi``, ...)."""

SOURCE_REPORT = METADATA_DIR + "hsi-conform/source-report.json"
"""The validation report (JSON) of a nonconformant source that ``convert --allow-nonconformant`` converted anyway
(spec/safety.md#nonconformant-sources)."""

IMPORTED_METADATA: dict[str, str] = {
    "ieee4001": METADATA_DIR + "ieee4001.json",
    "stac": METADATA_DIR + "stac-item.json",
    "cf": METADATA_DIR + "cf-attributes.json",
}
"""Where ``hsi-conform metadata --from`` stores a metadata document of each kind (spec/metadata-crosswalk.md#import);
the FLD rules on IEEE 4001 camera metadata read the ``ieee4001`` one."""

CALIBRATION_RECORD = METADATA_DIR + "hsi-conform/calibration.json"
"""What ``calibrate`` did to a container: its inputs' sha256, the formula and the options
(spec/calibration.md#record); its presence marks a calibrated cube."""

BOUNDING_BOXES_FILE = "bounding boxes.csv"
"""The bounding-box CSV's file name in :data:`EXPLORATION_DIR` when the ``bounding boxes`` field names none."""
BOUNDING_BOXES = EXPLORATION_DIR + BOUNDING_BOXES_FILE
"""The default bounding-box CSV member."""


def preview_stem(lod: str = "") -> str:
    """Return the stem of a preview level: ``preview`` for ``""``, else ``preview_<lod>``."""
    return f"{PREVIEW}_{lod}" if lod else PREVIEW


def reference_stem(which: str) -> str:
    """Return the stem of a reference member: ``Reference/<which>`` (e.g. ``Reference/white``)."""
    return REFERENCE_DIR + which


def envi_names(stem: str) -> tuple[str, str]:
    """Return ``(header, data)`` member names of an ENVI stem: ``<stem>.hdr`` and ``<stem>.envi``."""
    return stem + HEADER_SUFFIX, stem + DATA_SUFFIX


def data_of(header: str) -> str:
    """Return the data member of an ENVI header member (``x.hdr`` → ``x.envi``).

    Raises:
        ValueError: ``header`` does not end with ``.hdr``.
    """
    if not header.endswith(HEADER_SUFFIX):
        raise ValueError(f"{header!r} is not an ENVI header member ({HEADER_SUFFIX})")
    return header[: -len(HEADER_SUFFIX)] + DATA_SUFFIX


def header_of(data: str) -> str:
    """Return the header member of an ENVI data member (``x.envi`` → ``x.hdr``).

    Raises:
        ValueError: ``data`` does not end with ``.envi``.
    """
    if not data.endswith(DATA_SUFFIX):
        raise ValueError(f"{data!r} is not an ENVI data member ({DATA_SUFFIX})")
    return data[: -len(DATA_SUFFIX)] + HEADER_SUFFIX


class MemberKind(Enum):
    """What a member name is in the documented layout (spec/container.md#layout)."""

    CUBE_HEADER = "cube header"
    """``data.hdr``."""
    CUBE_DATA = "cube data"
    """``data.envi``."""
    CUBE_INDEX = "cube index"
    """``data.jxl.json``, the band-group index of a JPEG-XL cube."""
    PREVIEW_HEADER = "preview header"
    """``preview.hdr`` or ``preview_<lod>.hdr`` at the root."""
    PREVIEW_DATA = "preview data"
    """``preview.envi`` or ``preview_<lod>.envi`` at the root."""
    REFERENCE_HEADER = "reference header"
    """A ``.hdr`` directly in ``Reference/``: ``white.hdr``, ``black.hdr`` or another calibration's."""
    REFERENCE_DATA = "reference data"
    """A ``.envi`` directly in ``Reference/``."""
    REFERENCE_OTHER = "reference other"
    """Any other member under ``Reference/`` (the directory itself, sub-directories, other formats)."""
    THUMBNAIL = "thumbnail"
    """``thumbnail.jpg`` at the root."""
    EXPLORATION = "exploration"
    """Anything under ``Exploration/`` (the directory itself included)."""
    METADATA = "metadata"
    """Anything under ``Metadata/`` (the directory itself included)."""
    UNKNOWN = "unknown"
    """Not part of the documented layout (a case variant of a documented name included)."""


@dataclass(frozen=True, slots=True)
class Classified:
    """The kind of one member name, with the part of the name that varies.

    Attributes:
        kind: what the member is.
        lod: the preview level (``""`` for ``preview.*``, else the ``<lod>``); None for other kinds.
        reference: the stem inside ``Reference/`` (``"white"``, ``"black"``, ...) of a reference header or
            data member; None for other kinds.
    """

    kind: MemberKind
    lod: str | None = None
    reference: str | None = None


_ROOT_KINDS = {CUBE_HEADER: MemberKind.CUBE_HEADER, CUBE_DATA: MemberKind.CUBE_DATA, CUBE_INDEX: MemberKind.CUBE_INDEX,
               THUMBNAIL: MemberKind.THUMBNAIL}
_DIR_KINDS = {EXPLORATION_DIR: MemberKind.EXPLORATION, METADATA_DIR: MemberKind.METADATA}


@functools.lru_cache(maxsize=1 << 14)  # several rules classify every name of a container
def classify_member(name: str) -> Classified:
    """Classify a member name against the documented layout.

    Args:
        name: A member name (directories end with ``/``), spelled as stored.

    Returns:
        Its kind, with the preview level or the reference stem when it has one.
    """
    if "/" not in name:
        return _classify_root(name)
    if name.startswith(REFERENCE_DIR):
        return _classify_reference(name[len(REFERENCE_DIR) :])
    top = name[: name.index("/") + 1]
    return Classified(_DIR_KINDS.get(top, MemberKind.UNKNOWN))


def _classify_root(name: str) -> Classified:
    kind = _ROOT_KINDS.get(name)
    if kind is not None:
        return Classified(kind)
    m = PREVIEW_PATTERN.fullmatch(name)
    if m is None:
        return Classified(MemberKind.UNKNOWN)
    kind = MemberKind.PREVIEW_HEADER if m["ext"] == HEADER_SUFFIX[1:] else MemberKind.PREVIEW_DATA
    return Classified(kind, lod=m["lod"] or "")


def _classify_reference(rest: str) -> Classified:
    if "/" not in rest:
        if rest.endswith(HEADER_SUFFIX):
            return Classified(MemberKind.REFERENCE_HEADER, reference=rest[: -len(HEADER_SUFFIX)])
        if rest.endswith(DATA_SUFFIX):
            return Classified(MemberKind.REFERENCE_DATA, reference=rest[: -len(DATA_SUFFIX)])
    return Classified(MemberKind.REFERENCE_OTHER)


_HEADER_SCOPES = {
    MemberKind.CUBE_HEADER: Scope.ROOT,
    MemberKind.PREVIEW_HEADER: Scope.PREVIEW,
    MemberKind.REFERENCE_HEADER: Scope.REFERENCE,
}


def scope_of(name: str) -> Scope | None:
    """Return the scope of an ENVI header member by its path, or None for any other member.

    ENVI headers are ``data.hdr``, the preview headers, the ``.hdr`` members directly in ``Reference/`` and every
    ``.hdr`` under ``Exploration/`` (spec/container.md#pairs); a ``.hdr`` elsewhere (``Metadata/``) is not one.
    """
    kind = classify_member(name).kind
    if kind is MemberKind.EXPLORATION:
        return Scope.EXPLORATION if name.endswith(HEADER_SUFFIX) else None
    return _HEADER_SCOPES.get(kind)


@dataclass(frozen=True, slots=True)
class MemberPair:
    """An ENVI header member of a container, its data member and its scope (spec/container.md#pairs).

    Both are member names inside one container, not files. The converters' pairs of a header *file* with a data
    *file* found on disk (``converters.envi.EnviFiles``, ``converters.specim.folder.SpecimFiles``) are another
    thing: their data file is chosen among several candidates, and they carry state of their source format.

    Attributes:
        header: the header member (``data.hdr``, ``preview_2.hdr``, ``Reference/white.hdr``, ...).
        data: its data member, the same stem with ``.envi``.
        scope: where the header sits, which decides the fields it must have.
    """

    header: str
    data: str
    scope: Scope

    @classmethod
    def of(cls, header: str) -> MemberPair | None:
        """Return the pair of a header member, or None when the name is not an ENVI header of the layout."""
        scope = scope_of(header)
        return None if scope is None else cls(header, data_of(header), scope)


class _Node:
    """One path of a :class:`MemberTree`: what is stored under it."""

    __slots__ = ("children", "is_dir", "is_file")

    def __init__(self) -> None:
        self.children: dict[str, _Node] | None = None
        self.is_file = False
        self.is_dir = False


class MemberTree:
    """The directory tree of member names, indexed one path component at a time.

    Parent directories are never spelt out as strings: re-joining the components of every parent of
    ``x/x/.../y`` costs time and memory quadratic in the name (a 64 KB name of 32,000 components is half a GB of
    parents), while walking its components is linear in the bytes of the names (spec/safety.md#limits).

    Names deeper than ``max_depth`` components are indexed down to that depth, the rest of the name being one last
    component, so the index holds at most ``max_depth`` nodes per name whatever the input. Such names are
    reported as too deep (``ZIP051``); relations below that depth are not judged.
    """

    __slots__ = ("_max_depth", "_root")

    def __init__(self, max_depth: int = 64) -> None:
        """Start an empty tree.

        Args:
            max_depth: The deepest path indexed component by component.
        """
        self._root = _Node()
        self._max_depth = max(1, max_depth)

    def _parts(self, path: str) -> list[str]:
        return path.split("/", self._max_depth - 1)

    def _find(self, parts: list[str]) -> tuple[_Node | None, bool]:
        """Return the node of a path (None when absent) and whether one of its ancestors is a file."""
        node = self._root
        for depth, part in enumerate(parts):
            if depth and node.is_file:
                return None, True
            child = node.children.get(part) if node.children else None
            if child is None:
                return None, False
            node = child
        return node, False

    def conflicts(self, name: str) -> bool:
        """Return whether adding ``name`` would use one path both as a file and as a directory.

        Args:
            name: A member name (a directory ends with ``/``).
        """
        is_dir = name.endswith("/")
        node, under_file = self._find(self._parts(name[:-1] if is_dir else name))
        if under_file or node is None:
            return under_file
        return node.is_file if is_dir else (node.is_dir or bool(node.children))

    def add(self, name: str) -> None:
        """Record a member name (a directory ends with ``/``) and the directories it implies."""
        is_dir = name.endswith("/")
        node = self._root
        for part in self._parts(name[:-1] if is_dir else name):
            if node.children is None:
                node.children = {}
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            node = child
        if is_dir:
            node.is_dir = True
        else:
            node.is_file = True

    def has_members_under(self, directory: str) -> bool:
        """Return whether any recorded name lies inside ``directory`` (with or without its trailing ``/``)."""
        node, _ = self._find(self._parts(directory[:-1] if directory.endswith("/") else directory))
        return node is not None and bool(node.children)
