"""Deterministic generation of tiny valid containers, their headers and single-defect mutants.

Everything here is driven by a :class:`random.Random`, so the same seed gives the same bytes on every platform;
the Hypothesis strategies (:mod:`hsi_conform.testing.strategies`) pass a Hypothesis-controlled ``Random`` in,
and the corpus exporter (:func:`hsi_conform.corpus.export.generate_cases`) a seeded one. Only the standard library,
numpy and Pillow (for thumbnails; a Pillow build encodes the same pixels to the same bytes) are needed here.

A container is described by a :class:`ContainerSpec` (dimensions, encoding, optional members) and built by
:func:`build_valid` into a :class:`ValidContainer`: its members (in archive order) and the archive bytes, made
with :mod:`hsi_conform.testing.zipcraft`. Valid containers draw no finding at WARNING or above from
:func:`hsi_conform.check`, at every content tier.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hsi_conform.container.thumbnail import thumbnail_for
from hsi_conform.errors import ContainerError, InvalidArgumentError
from hsi_conform.fields import ByteOrder, DataType, Interleave
from hsi_conform.header import parse_header
from hsi_conform.members import (
    BLACK,
    BOUNDING_BOXES,
    BOUNDING_BOXES_FILE,
    CUBE_STEM,
    DATA_SUFFIX,
    EXPLORATION_DIR,
    METADATA_DIR,
    THUMBNAIL,
    WHITE,
    envi_names,
    preview_stem,
    reference_stem,
)
from hsi_conform.testing.samples import jpeg_image
from hsi_conform.testing.zipcraft import Entry, build

__all__ = [
    "FEATURES",
    "ContainerSpec",
    "FreeText",
    "HeaderValue",
    "ValidContainer",
    "build_valid",
    "random_spec",
    "render_header",
    "root_fields",
]

#: Optional members a container may have (the names of :attr:`ContainerSpec.features`).
FEATURES: tuple[str, ...] = ("references", "preview", "lod", "thumbnail", "classification", "masks", "bboxes",
                             "metadata")
#: Alignment padding extra field id (as written by ContainerWriter and zipalign).
_ALIGN_ID = 0xA11E
_LFH_SIZE = 30
_CLASS_POOL = ("background", "leaf", "soil", "panel", "weed", "stone", "water", "rust")
_CUSTOM_POOL = ("fps", "exposure", "binning", "hroi", "vroi", "humidity", "light condition", "pressure",
                "start time", "stop time", "errors", "operator")
_WORDS = ("leaf", "soil", "demo", "crop-disease", "macro", "lab", "uav", "vertical farm", "line 3", "batch-7")


@dataclass(frozen=True, slots=True)
class FreeText:
    """An opaque free-text value (``description``), always written in braces."""

    text: str


#: A header value as rendered: a scalar's text, a list's item texts, or free text.
HeaderValue = str | tuple[str, ...] | FreeText


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerSpec:
    """The shape, encoding and optional members of a generated container.

    Attributes:
        lines: Lines of the cube (1-8).
        samples: Samples per line (1-8).
        bands: Bands (1-6).
        data_type: ENVI data type of the cube, previews and references.
        interleave: Storage order of every ENVI member.
        byte_order: Byte order of every ENVI member.
        features: Optional members present (a subset of :data:`FEATURES`).
        align: Data alignment of ``.envi`` members (1 or 4096).
        header_offset: Bytes of embedded header before the cube data in ``data.envi``.
        reference_lines: Lines of the white and black references (1 or ``lines``).
    """

    lines: int = 3
    samples: int = 4
    bands: int = 2
    data_type: DataType = DataType.UINT16
    interleave: Interleave = Interleave.BSQ
    byte_order: ByteOrder = ByteOrder.LITTLE
    features: frozenset[str] = frozenset()
    align: int = 1
    header_offset: int = 0
    reference_lines: int = 1

    def __post_init__(self) -> None:
        unknown = self.features - set(FEATURES)
        if unknown:
            raise InvalidArgumentError(f"unknown features {sorted(unknown)}")
        if "lod" in self.features and "preview" not in self.features:
            raise InvalidArgumentError("the 'lod' feature needs 'preview'")

    def has(self, feature: str) -> bool:
        """Whether the container has an optional member group."""
        return feature in self.features

    @property
    def dtype(self) -> np.dtype[Any]:
        """The stored numpy dtype (explicit byte order)."""
        return self.data_type.dtype(int(self.byte_order))


@dataclass(frozen=True, slots=True, eq=False)
class ValidContainer:
    """A generated valid container.

    Attributes:
        spec: What it was built from.
        cube: The cube as stored in ``data.envi`` (storage order of the interleave, stored dtype).
        members: ``(name, bytes)`` of every member, in archive order.
        class_names: Class names of the masks / classification file (empty without them).
        data: The ``.hsi`` archive bytes.
    """

    spec: ContainerSpec
    cube: np.ndarray[Any, Any]
    members: tuple[tuple[str, bytes], ...]
    class_names: tuple[str, ...] = ()
    data: bytes = field(default=b"", repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Member names in archive order."""
        return tuple(name for name, _ in self.members)

    def member(self, name: str) -> bytes:
        """Return a member's bytes.

        Raises:
            ContainerError: no such member.
        """
        for n, content in self.members:
            if n == name:
                return content
        raise ContainerError(name, "no such member")

    def entries(self, members: Sequence[tuple[str, bytes]] | None = None) -> list[Entry]:
        """Return zipcraft entries for ``members`` (default: this container's), ``.envi`` data aligned."""
        return zip_entries(self.members if members is None else members, self.spec.align)

    def rebuild(self, members: Sequence[tuple[str, bytes]]) -> bytes:
        """Return archive bytes for another member list, laid out like this container."""
        return build(self.entries(members))


def zip_entries(members: Sequence[tuple[str, bytes]], align: int, start: int = 0) -> list[Entry]:
    """Return zipcraft entries for members; ``.envi`` data starts at a multiple of ``align`` after ``start``."""
    out = []
    pos = start
    for name, content in members:
        raw = name.encode("utf-8")
        extra = b""
        if align > 1 and name.endswith(DATA_SUFFIX):
            pad = -(pos + _LFH_SIZE + len(raw) + 6) % align
            extra = struct.pack("<HHH", _ALIGN_ID, 2 + pad, align) + bytes(pad)
        out.append(Entry(name, content, l_extra=extra))
        pos += _LFH_SIZE + len(raw) + len(extra) + len(content)
    return out


# -- header rendering -----------------------------------------------------------------------------------------

def render_header(fields: Sequence[tuple[str, HeaderValue]], rnd: random.Random | None = None) -> str:
    """Return header text for ``fields``; canonical without ``rnd``, else randomly but legally formatted.

    The random formatting only varies what the header grammar accepts without a diagnostic above INFO: blanks
    around ``=``, blanks after ``{``, before ``}`` and around commas, list wrapping after a comma, comment and
    blank lines between entries, CRLF line ends and a missing final line break.
    """
    if rnd is None:
        lines = ["ENVI", *(f"{key} = {_value_text(value, None)}" for key, value in fields)]
        return "\n".join(lines) + "\n"
    out = ["ENVI"]
    for key, value in fields:
        if rnd.random() < 0.15:
            out.append("; " + rnd.choice(_WORDS) if rnd.random() < 0.5 else ";")
        if rnd.random() < 0.1:
            out.append("")
        sep = rnd.choice((" = ", " = ", "=", " =", "= ", "  =  ", "\t=\t"))
        out.append(f"{key}{sep}{_value_text(value, rnd)}")
    if rnd.random() < 0.2:
        out.append("; end of header")
    text = "\n".join(out)
    if rnd.random() < 0.25:
        text = text.replace("\n", "\r\n")
    return text if rnd.random() < 0.15 else text + ("\r\n" if "\r" in text else "\n")


def _value_text(value: HeaderValue, rnd: random.Random | None) -> str:
    if isinstance(value, FreeText):
        return "{" + value.text + "}"
    if isinstance(value, str):
        return value
    if rnd is None:
        return "{" + ", ".join(value) + "}"
    pad = rnd.choice(("", "", " ", "\n  "))
    parts = []
    for i, item in enumerate(value):
        parts.append(item)
        if i < len(value) - 1:
            parts.append(rnd.choice((", ", ", ", ",", " , ", ",\n  ", ",\n")))
    close = rnd.choice(("", "", " ")) if "\n" not in pad else "\n"
    return "{" + pad + "".join(parts) + close + "}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _floats(values: Sequence[float]) -> tuple[str, ...]:
    return tuple(_num(v) for v in values)


def core_fields(lines: int, samples: int, bands: int, data_type: DataType, interleave: Interleave,
                byte_order: ByteOrder, *, header_offset: int = 0,
                file_type: str = "ENVI Standard") -> list[tuple[str, HeaderValue]]:
    """Return the mandatory ENVI fields of a header, in ENVI's order."""
    return [("samples", str(samples)), ("lines", str(lines)), ("bands", str(bands)),
            ("header offset", str(header_offset)), ("file type", file_type),
            ("data type", str(int(data_type))), ("interleave", interleave.value),
            ("byte order", str(int(byte_order)))]


def wavelengths(bands: int, rnd: random.Random | None) -> list[float]:
    """Return strictly increasing positive wavelengths in nm."""
    start = 400.0 if rnd is None else round(rnd.uniform(350, 900), 2)
    step = 10.0 if rnd is None else round(rnd.uniform(0.5, 25), 3)
    return [round(start + i * step, 3) for i in range(bands)]


def _ignore_value(data_type: DataType, rnd: random.Random) -> str:
    if data_type.dtype().kind == "u":
        return str(rnd.choice((0, 1, 255)))
    if data_type.dtype().kind == "i":
        return str(rnd.choice((-9999, -1, 0)))
    return rnd.choice(("-9999", "nan", "0", "-1.5"))


def _optional_fields(spec: ContainerSpec, rnd: random.Random) -> list[tuple[str, HeaderValue]]:
    b, sl, ln = spec.bands, spec.samples, spec.lines
    pool: dict[str, HeaderValue] = {
        "description": FreeText(rnd.choice(("tiny scene", "a, b = c; d", "generated\nby hsi-conform", ""))),
        "band names": tuple(f"band {i + 1}" for i in range(b)),
        "default bands": tuple(str(rnd.randint(1, b)) for _ in range(rnd.choice((1, 3)))),
        "pixel size": rnd.choice((("0.001", "0.002"), ("30", "30", "units=Meters"))),
        "reflectance scale factor": rnd.choice(("10000", "1.5")),
        "data offset values": _floats([rnd.uniform(-5, 5) for _ in range(b)]),
        "acquisition time": rnd.choice(("2025-06-30", "2025-06-30T12:00:00Z", "2024-02-29T23:59:59.25+01:00",
                                        "2025-01-02T03:04:05")),
        "problem": tuple(rnd.sample(_WORDS, rnd.randint(1, 3))),
        "series": rnd.choice(_WORDS),
        "target": "target, with comma",
        "target info": tuple(rnd.sample(_WORDS, rnd.randint(1, 2))),
        "measurement": f"m-{rnd.randint(0, 999)}",
        "optics": (rnd.choice(("macro", "microscope", "pixel-shifted")),),
        "temperature": _num(round(rnd.uniform(-20, 60), 2)),
        "class": rnd.choice(("healthy", "diseased")),
        "data ignore value": _ignore_value(spec.data_type, rnd),
        "data gain values": _floats([round(rnd.uniform(0.1, 3), 4) for _ in range(b)]),
        "bbl": tuple(rnd.choice(("1", "0", "1")) for _ in range(b)),
        "read procedures": _procedures(sl, ln, b, rnd),
        "x start": str(rnd.randint(0, 100)),
        "y start": str(rnd.randint(0, 100)),
    }
    keys = rnd.sample(sorted(pool), rnd.randint(0, len(pool)))
    out: list[tuple[str, HeaderValue]] = [(k, pool[k]) for k in keys]
    for key in rnd.sample(_CUSTOM_POOL, rnd.randint(0, 3)):
        out.append((key, rnd.choice(("12.5", "on", "08:15:00", ("1", "2"), ("a", "b c")))))
    return out


def _procedures(samples: int, lines: int, bands: int, rnd: random.Random) -> tuple[str, ...]:
    crop = f"crop:{{0:{rnd.randint(0, samples - 1)}, 0:{lines - 1}, {bands - 1}:{bands - 1}}}"
    later = ["rotate:clockwise", "resample:{2, 2, 1}", "microservice:calibrate.v1", "merge:{other.hsi:0:-1}"]
    first = [crop] if rnd.random() < 0.6 else []  # crops are judged against the size before them: crop first
    return (*first, *rnd.sample(later, rnd.randint(1 - len(first), 2)))


def root_fields(spec: ContainerSpec, rnd: random.Random | None, class_names: Sequence[str] = (),
                camera: str = "") -> list[tuple[str, HeaderValue]]:
    """Return the fields of ``data.hdr``: core fields first, then the rest in random order."""
    fields = core_fields(spec.lines, spec.samples, spec.bands, spec.data_type, spec.interleave,
                         spec.byte_order, header_offset=spec.header_offset)
    rest: list[tuple[str, HeaderValue]] = [("wavelength", _floats(wavelengths(spec.bands, rnd))),
                                           ("wavelength units", "nm" if rnd is None else rnd.choice(
                                               ("nm", "Nanometers", "nanometers")))]
    rest += _camera_fields(spec, rnd)
    if rnd is not None:
        rest += _optional_fields(spec, rnd)
    rest += _feature_fields(spec, class_names, camera)
    if rnd is not None:
        rnd.shuffle(rest)
    return fields + rest


def _camera_fields(spec: ContainerSpec, rnd: random.Random | None) -> list[tuple[str, HeaderValue]]:
    """Return the IEEE 4001 camera metadata a valid container provides (FLD050, FLD051): device, band widths."""
    widths = [5.0] * spec.bands if rnd is None else [round(rnd.uniform(0.5, 20), 3) for _ in range(spec.bands)]
    return [("device", "hsi-conform camera"), ("fwhm", _floats(widths))]


def _feature_fields(spec: ContainerSpec, class_names: Sequence[str], camera: str) -> list[tuple[str, HeaderValue]]:
    out: list[tuple[str, HeaderValue]] = []
    if spec.has("classification") or spec.has("masks"):
        out += [("classes", str(len(class_names))),
                ("class lookup", tuple(str((37 * i + j * 80) % 256) for i in range(len(class_names))
                                       for j in range(3)))]
    if spec.has("masks"):
        out.append(("class names", tuple(class_names)))
    if spec.has("classification"):
        out.append(("classification file", "classification.envi"))
    if spec.has("bboxes"):
        out.append(("bounding boxes", BOUNDING_BOXES_FILE))
    if spec.has("metadata"):
        out.append(("sensor type", camera))
    return out


# -- arrays ---------------------------------------------------------------------------------------------------

def _values(dtype: np.dtype[Any], shape: tuple[int, ...], rng: np.random.Generator,
            low: float = 1, high: float = 200) -> np.ndarray[Any, Any]:
    """Return values that no DAT rule objects to: finite, never a zero or saturated band."""
    if dtype.kind in "ui":
        top = min(high, float(np.iinfo(dtype).max) - 1)
        out = rng.integers(int(low), int(top) + 1, size=shape)
        if dtype.kind == "i" and low == 1 and high == 200:
            out = out * rng.choice((-1, 1), size=shape)
        return out.astype(dtype)
    real = rng.uniform(low, high, size=shape)
    if dtype.kind == "c":
        real = real + 1j * rng.uniform(low, high, size=shape)
    return real.astype(dtype)


def _stored(bip: np.ndarray[Any, Any], il: Interleave) -> np.ndarray[Any, Any]:
    order = {Interleave.BIP: (0, 1, 2), Interleave.BIL: (0, 2, 1), Interleave.BSQ: (2, 0, 1)}[il]
    return np.ascontiguousarray(bip.transpose(order))


def _envi_pair(base: str, array: np.ndarray[Any, Any], fields: list[tuple[str, HeaderValue]],
               rnd: random.Random | None, prefix: bytes = b"") -> list[tuple[str, bytes]]:
    header, data = envi_names(base)
    return [(header, render_header(fields, rnd).encode()), (data, prefix + array.tobytes())]


# -- containers -----------------------------------------------------------------------------------------------

def build_valid(spec: ContainerSpec, rnd: random.Random | None = None) -> ValidContainer:
    """Build a valid container; headers are canonical without ``rnd``, randomly formatted with it."""
    seed = 0 if rnd is None else rnd.getrandbits(32)
    rng = np.random.default_rng(seed)
    bip = _values(spec.dtype, (spec.lines, spec.samples, spec.bands), rng)
    cube = _stored(bip, spec.interleave)
    n_classes = 2 if rnd is None else rnd.randint(1, 4)
    class_names = tuple(_CLASS_POOL[:n_classes] if rnd is None else rnd.sample(_CLASS_POOL, n_classes))
    if not (spec.has("masks") or spec.has("classification")):
        class_names = ()
    camera = "camera" if rnd is None else rnd.choice(("camera", "sensor-a", "cam.v2"))
    prefix = bytes(range(spec.header_offset % 256))[: spec.header_offset]
    members = _envi_pair(CUBE_STEM, cube, root_fields(spec, rnd, class_names, camera), rnd, prefix)
    members += _optional_members(spec, bip, rng, rnd, class_names, camera, header=members[0][1])
    if rnd is not None:
        members = _shuffled_members(members, rnd)
    data = build(zip_entries(members, spec.align))
    return ValidContainer(spec=spec, cube=cube, members=tuple(members), class_names=class_names, data=data)


def _shuffled_members(members: list[tuple[str, bytes]], rnd: random.Random) -> list[tuple[str, bytes]]:
    head, tail = members[:2], members[2:]
    rnd.shuffle(tail)
    if rnd.random() < 0.3:
        head.reverse()
    return head + tail


def _spectral(spec: ContainerSpec, array_lines: int, samples: int, bands: int) -> list[tuple[str, HeaderValue]]:
    fields = core_fields(array_lines, samples, bands, spec.data_type, spec.interleave, spec.byte_order)
    return [*fields, ("wavelength", _floats(wavelengths(bands, None)))]


def _thumbnail(header: bytes, cube: np.ndarray[Any, Any], rnd: random.Random | None) -> bytes:
    """Return the thumbnail every writer renders of ``cube``; with ``rnd``, one of a random size (any size is valid)."""
    if rnd is None:
        return thumbnail_for(parse_header(header), cube)
    return jpeg_image(rnd.randint(1, 16), rnd.randint(1, 16))


def _optional_members(spec: ContainerSpec, bip: np.ndarray[Any, Any], rng: np.random.Generator,
                      rnd: random.Random | None, class_names: Sequence[str],
                      camera: str, header: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    il = spec.interleave
    if spec.has("references"):
        shape = (spec.reference_lines, spec.samples, spec.bands)
        fields = _spectral(spec, spec.reference_lines, spec.samples, spec.bands)
        out += _envi_pair(reference_stem(WHITE), _stored(_values(spec.dtype, shape, rng, 220, 250), il), fields, rnd)
        out += _envi_pair(reference_stem(BLACK), _stored(_values(spec.dtype, shape, rng, 1, 20), il), fields, rnd)
    if spec.has("preview"):
        small = np.ascontiguousarray(bip[::2, ::2, :])
        out += _envi_pair(preview_stem(), _stored(small, il), _spectral(spec, *small.shape), rnd)
    if spec.has("lod"):
        out += _envi_pair(preview_stem("1"), _stored(bip, il), _spectral(spec, *bip.shape), rnd)
    if spec.has("thumbnail"):
        out.append((THUMBNAIL, _thumbnail(header, _stored(bip, il), rnd)))
    labels = rng.integers(0, max(len(class_names), 1), size=(spec.lines, spec.samples)).astype(np.uint8)
    if spec.has("classification"):
        out += _classification(spec, labels, class_names, rnd)
    if spec.has("masks"):
        for index, name in enumerate(class_names):
            mask = (labels == index).astype(np.uint8)[None]
            fields = core_fields(spec.lines, spec.samples, 1, DataType.UINT8, Interleave.BSQ, ByteOrder.LITTLE)
            out += _envi_pair(EXPLORATION_DIR + name, mask, fields, rnd)
    if spec.has("bboxes"):
        out.append((BOUNDING_BOXES, _bboxes(spec, class_names or ("object",), rnd)))
    if spec.has("metadata"):
        out.append((f"{METADATA_DIR}{camera}.txt", b"A synthetic camera of hsi-conform.\n"))
        out.append((METADATA_DIR + "notes.json", b'{"operator": "generated"}\n'))
    return out


def _classification(spec: ContainerSpec, labels: np.ndarray[Any, Any], class_names: Sequence[str],
                    rnd: random.Random | None) -> list[tuple[str, bytes]]:
    fields = core_fields(spec.lines, spec.samples, 1, DataType.UINT8, Interleave.BSQ, ByteOrder.LITTLE,
                         file_type="ENVI Classification")
    fields += [("classes", str(len(class_names))), ("class names", tuple(class_names))]
    return _envi_pair(EXPLORATION_DIR + "classification", labels[None], fields, rnd)


def _bboxes(spec: ContainerSpec, names: Sequence[str], rnd: random.Random | None) -> bytes:
    rows = ["name,left,top,width,height"]
    for i in range(1 if rnd is None else rnd.randint(1, 4)):
        left = 0 if rnd is None else rnd.randint(0, spec.samples - 1)
        top = 0 if rnd is None else rnd.randint(0, spec.lines - 1)
        width = spec.samples - left if rnd is None else rnd.randint(1, spec.samples - left)
        height = spec.lines - top if rnd is None else rnd.randint(1, spec.lines - top)
        rows.append(f"{names[i % len(names)]},{left},{top},{width},{height}")
    eol = "\r\n" if rnd is not None and rnd.random() < 0.3 else "\n"
    return (eol.join(rows) + eol).encode()


def random_spec(rnd: random.Random, *, features: frozenset[str] | None = None) -> ContainerSpec:
    """Return a random spec: tiny dimensions, any data type, interleave and byte order, some optional members.

    Args:
        rnd: the source of randomness.
        features: the optional members to include (default: a random subset).
    """
    if features is None:
        features = frozenset(f for f in FEATURES if rnd.random() < 0.4)
    if "lod" in features:
        features |= {"preview"}
    lines = rnd.randint(1, 8)
    return ContainerSpec(
        lines=lines, samples=rnd.randint(1, 8), bands=rnd.randint(1, 6),
        data_type=rnd.choice(list(DataType)), interleave=rnd.choice(list(Interleave)),
        byte_order=rnd.choice(list(ByteOrder)), features=features, align=rnd.choice((1, 1, 4096)),
        header_offset=rnd.choice((0, 0, 0, 16)), reference_lines=rnd.choice((1, lines)))
