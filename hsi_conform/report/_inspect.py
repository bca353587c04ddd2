"""What the HTML report shows of a container besides its findings: members, thumbnail, mean spectra.

The report renders files that failed validation, some of them hostile, so everything here reads defensively
(spec/html-report.md#reading): the container is opened with the default limits, every part that cannot be read is
replaced by a note saying why, and memory stays bounded whatever the header claims: the thumbnail member is read
only up to :data:`MAX_THUMBNAIL_BYTES` and re-encoded at most :data:`THUMBNAIL_SIDE` pixels wide, and a mean
spectrum is the mean over a regular grid of pixels holding at most :data:`MAX_SPECTRUM_VALUES` values
(spec/html-report.md#mean-spectrum).
"""

from __future__ import annotations

import base64
import io
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container, CubeLayout
from hsi_conform.container.source import read_block
from hsi_conform.container.thumbnail import image_view, wavelengths_nm
from hsi_conform.errors import HsiConformError
from hsi_conform.members import (
    BLACK,
    CUBE_DATA,
    CUBE_HEADER,
    DATA_SUFFIX,
    THUMBNAIL,
    WHITE,
    classify_member,
    header_of,
    reference_stem,
)
from hsi_conform.remote import RemoteArray
from hsi_conform.rules.layout import ALIGNMENT

__all__ = [
    "MAX_MEMBER_ROWS",
    "MAX_PLOTTED_BANDS",
    "MAX_SPECTRUM_VALUES",
    "MAX_THUMBNAIL_BYTES",
    "THUMBNAIL_SIDE",
    "ContainerView",
    "MemberRow",
    "Spectrum",
    "grid_mean",
    "input_size",
    "inspect_container",
]

#: The most member rows a file's layout table shows (a hostile archive may list millions).
MAX_MEMBER_ROWS = 500
#: ``thumbnail.jpg`` members larger than this are not read.
MAX_THUMBNAIL_BYTES = 4 << 20
#: Longest side of the thumbnail as shown, in pixels.
THUMBNAIL_SIDE = 256
#: A thumbnail whose header claims more pixels than this is not decoded.
MAX_THUMBNAIL_PIXELS = 50_000_000
#: The most values (pixels x bands) read to compute one mean spectrum.
MAX_SPECTRUM_VALUES = 1 << 20
#: The most bands a plotted spectrum has (more are subsampled evenly).
MAX_PLOTTED_BANDS = 2048
#: What the report catches while reading a container: the tool's own errors, I/O and malformed values.
_READ_ERRORS = (HsiConformError, OSError, ValueError, MemoryError)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRow:
    """One row of a file's member layout.

    Attributes:
        name: Member name as decoded from the archive.
        kind: Its place in the documented layout (``"cube data"``, ``"unknown"``...).
        size: Stored size in bytes.
        offset: First data byte in the file (None: an expanded folder, or a local header that cannot be read).
        aligned: For ``.envi`` data of a ``.hsi`` file, whether it starts at a multiple of the alignment.
        stored: Stored uncompressed and unencrypted.
    """

    name: str
    kind: str
    size: int
    offset: int | None
    aligned: bool | None
    stored: bool


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A mean spectrum of one data member.

    Attributes:
        label: What it is the mean of (``"cube"``, ``"white reference"``, ``"black reference"``).
        bands: The 1-based numbers of the bands read.
        nm: Their centres in nanometres (None when the header gives none).
        means: The mean of each band read (NaN when no value of it is finite).
        pixels: The number of pixels averaged.
    """

    label: str
    bands: np.ndarray[Any, Any]
    nm: np.ndarray[Any, Any] | None
    means: np.ndarray[Any, Any]
    pixels: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerView:
    """What the report shows of one container.

    Attributes:
        size: Bytes of the file (of all member files for a folder); None when unknown.
        error: Why the container could not be opened (None: it was).
        members: The first :data:`MAX_MEMBER_ROWS` members in archive order.
        more_members: How many members are not listed.
        alignment: The alignment the ``aligned`` column checks.
        thumbnail: The thumbnail as a ``data:`` URI, or None.
        thumbnail_note: Why there is no thumbnail.
        spectra: The mean spectra of the cube and of the white and black references found.
        spectrum_note: Why a spectrum is missing (empty when none is).
    """

    size: int | None
    error: str | None = None
    members: tuple[MemberRow, ...] = ()
    more_members: int = 0
    alignment: int = ALIGNMENT
    thumbnail: str | None = None
    thumbnail_note: str = ""
    spectra: tuple[Spectrum, ...] = ()
    spectrum_note: str = ""


def input_size(path: str) -> int | None:
    """Return the size of an input file in bytes (None for a folder, a URL or a path that cannot be read)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if not os.path.isdir(path) else None


def inspect_container(path: str) -> ContainerView:
    """Open a container read-only and describe it; never raises for a bad input (the view says what failed)."""
    size = input_size(path)
    try:
        container = open_container(path)
    except _READ_ERRORS as exc:
        return ContainerView(size=size, error=_reason(exc))
    with container:
        rows = list(_member_rows(container))
        if size is None and not container.is_zip:
            size = sum(info.size for info in container.members)
        thumbnail, thumbnail_note = _thumbnail(container)
        spectra, spectrum_note = _spectra(container)
    return ContainerView(size=size, members=tuple(rows[:MAX_MEMBER_ROWS]),
                         more_members=max(0, len(rows) - MAX_MEMBER_ROWS), thumbnail=thumbnail,
                         thumbnail_note=thumbnail_note, spectra=tuple(spectra), spectrum_note=spectrum_note)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _member_rows(container: Container) -> Iterator[MemberRow]:
    if container.structure is None:  # an expanded folder: separate files, no offsets
        for info in container.members:
            yield MemberRow(name=info.name, kind=classify_member(info.name).kind.value, size=info.size,
                            offset=None, aligned=None, stored=True)
        return
    for m in container.structure.members:  # every central-directory entry, duplicates included
        aligned = None
        if m.name.endswith(DATA_SUFFIX) and m.data_offset is not None:
            aligned = m.data_offset % ALIGNMENT == 0
        stored = m.method == 0 and not m.flags & 0x41
        yield MemberRow(name=m.name, kind=classify_member(m.name).kind.value, size=m.compressed_size,
                        offset=m.data_offset, aligned=aligned, stored=stored)


def _thumbnail(container: Container) -> tuple[str | None, str]:
    if THUMBNAIL not in container:
        return None, f"the container has no {THUMBNAIL}"
    try:
        return _reencoded(container.read_bytes(THUMBNAIL, limit=MAX_THUMBNAIL_BYTES)), ""
    except _READ_ERRORS as exc:
        return None, f"{THUMBNAIL} cannot be shown: {_reason(exc)}"


def _reencoded(data: bytes) -> str:
    """Return a JPEG re-encoded at most :data:`THUMBNAIL_SIDE` pixels wide, as a ``data:`` URI.

    Re-encoding bounds the page size and means the browser never decodes the file's own bytes.

    Raises:
        ValueError: The image claims more than :data:`MAX_THUMBNAIL_PIXELS` pixels.
        OSError: Pillow cannot decode it.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=["JPEG"])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(str(exc)) from None
    with image:
        width, height = image.size
        if width * height > MAX_THUMBNAIL_PIXELS:
            raise ValueError(f"{width}x{height} pixels is more than the report decodes")
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # decode at a reduced scale where JPEG allows
        shown = image.convert("RGB")
    shown.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    shown.save(out, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _spectra(container: Container) -> tuple[list[Spectrum], str]:
    spectra: list[Spectrum] = []
    notes: list[str] = []
    for label, data in (("cube", CUBE_DATA), ("white reference", reference_stem(WHITE) + DATA_SUFFIX),
                        ("black reference", reference_stem(BLACK) + DATA_SUFFIX)):
        if data not in container and label != "cube":
            continue  # references are optional; a missing cube is worth saying
        try:
            spectra.append(_mean_spectrum(container, label, data))
        except _READ_ERRORS as exc:
            notes.append(f"no mean spectrum of the {label}: {_reason(exc)}")
    return spectra, "; ".join(notes)


def _mean_spectrum(container: Container, label: str, data: str) -> Spectrum:
    header = container.read_header(CUBE_HEADER if data == CUBE_DATA else header_of(data))
    layout = CubeLayout.from_header(header)
    image = image_view(container.open_array(data, header), layout.interleave)  # remote: only the grid is read
    means, pixels, band_step = grid_mean(image)
    bands = np.arange(1, layout.bands + 1, band_step, dtype=np.float64)
    waves = wavelengths_nm(header, layout.bands)
    nm = None if waves is None else np.asarray(waves, dtype=np.float64)[::band_step]
    return Spectrum(label, bands, nm, means, pixels)


def grid_mean(image: np.ndarray[Any, Any] | RemoteArray) -> tuple[np.ndarray[Any, Any], int, int]:
    """Return the mean spectrum of an image (lines, samples, bands) over a regular grid of pixels.

    At most :data:`MAX_PLOTTED_BANDS` bands (every ``band_step``-th) and at most :data:`MAX_SPECTRUM_VALUES`
    values are read, through ``pread`` for a mapped image; non-finite values are left out of the mean (a band
    without any finite value has NaN); complex data gives the mean magnitude.

    Returns:
        The means (float64, one per read band), the number of pixels averaged, and ``band_step``.
    """
    lines, samples, bands = image.shape
    band_step = max(1, math.ceil(bands / MAX_PLOTTED_BANDS))
    read_bands = math.ceil(bands / band_step)
    pixels = max(1, MAX_SPECTRUM_VALUES // read_bands)
    rows = min(lines, max(1, math.isqrt(pixels)))
    cols = min(samples, max(1, pixels // rows))
    block = read_block(np.asarray(image[:: math.ceil(lines / rows), :: math.ceil(samples / cols), ::band_step]))
    values = np.abs(block) if np.iscomplexobj(block) else block.astype(np.float64, copy=False)
    values = values.reshape(-1, values.shape[-1])
    finite = np.isfinite(values)
    counts = finite.sum(axis=0)
    sums = np.where(finite, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means.astype(np.float64), values.shape[0], band_step
