"""Synthetic but realistic SPECIM dataset folders (SPECIM IQ and Lumo Recorder/Scanner), tiny and deterministic.

The headers follow the real IQ and Lumo layouts (spec/specim-mapping.md#folders): CRLF line ends,
``file type = ENVI``, mixed-case keys (``Start Time``, ``Wavelength``), the Lumo date forms
(``DATE(yyyy-mm-dd): 2019-01-29``, ``UTC TIME: 14:46:16``) and the IQ one (``03-02-2021``), vendor keys (``tint``,
``fps_qpf``, ``himg``, ``sensorid``, ``calibration pack``), a double blank inside a key
(``Scb temperature channel4  = 22.26``), a ``temperature`` list, no ``wavelength units``, and
``sensor type = FX10e , Lumo - Scanner v2019-535``. References have their own headers (one line for the IQ,
several lines for Lumo). Side files (``manifest.xml``, ``metadata/<id>.xml``, ``.png``, ``.log``, ``.validated``)
are small placeholders with the right names and plausible content.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CAMERAS", "Camera", "iq_header", "lumo_header", "tiny_png", "write_iq_folder", "write_lumo_folder"]


@dataclass(frozen=True, slots=True)
class Camera:
    """A Lumo camera: its ``sensor type`` text, wavelength range (nm) and sensor id."""

    sensor_type: str
    first_nm: float
    last_nm: float
    sensor_id: str
    wavelength_key: str = "wavelength"


CAMERAS: dict[str, Camera] = {
    "FX10e": Camera("FX10e , Lumo - Scanner v2019-535", 397.66, 1003.81, "1200057"),
    "FX10": Camera("FX10 , Lumo - Recorder v2017-490", 397.66, 1003.81, "1200057"),
    "FX17": Camera("FX17 , Lumo - Recorder v2018-512", 935.61, 1720.23, "461055"),
    "FENIX": Camera("FENIX , Lumo - Recorder v2018-512", 377.35, 2504.02, "3500015"),
    "SWIR": Camera("SWIR , Lumo - Recorder v2016-424", 968.07, 2575.21, "431048", "Wavelength"),
}


def tiny_png(width: int = 2, height: int = 2, level: int = 128) -> bytes:
    """Return a valid 8-bit greyscale PNG of a uniform image (a placeholder preview)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([level]) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _wavelengths(first: float, last: float, bands: int) -> list[str]:
    step = (last - first) / max(bands - 1, 1)
    return [f"{first + i * step:.2f}" for i in range(bands)]


def _crlf(lines: Iterable[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _multiline(key: str, items: list[str]) -> list[str]:
    """Return a Lumo-style list: one item per line, the closing brace on its own line."""
    return [f"{key} = {{", *(f"{v}," for v in items[:-1]), items[-1], "}"]


def _default_bands(bands: int) -> str:
    return f"{{{max(1, bands * 7 // 20)},{max(1, bands // 4)},{max(1, bands // 10)}}}"


def iq_header(*, lines: int, samples: int, bands: int, date: str = "03-02-2021", data_type: int = 12) -> bytes:
    """Return a SPECIM IQ header (the real key set and order, CRLF)."""
    waves = _wavelengths(397.32, 1003.58, bands)
    return _crlf([
        "ENVI", "description = {Data recorded with Specim IQ}", f"samples = {samples}", f"lines = {lines}",
        f"bands = {bands}", "header offset = 0", "file type = ENVI", f"data type = {data_type}", "interleave = BIL",
        "sensor type = SPECIM IQ", "byte order = 0", f"default bands = {_default_bands(bands)}",
        "latitude = 0.00000000", "longitude = 0.00000000", f"acquisition date = {date}", "errors = none",
        "binning = {1,1}", "tint = 98", "fps = 10.2041", "wavelength = {" + ",".join(waves) + "}",
    ])


def lumo_header(camera: str = "FX10e", *, lines: int, samples: int, bands: int, date: str = "2019-01-29",
                time: str = "14:46:16", data_type: int = 12, units: str | None = None) -> bytes:
    """Return a Lumo Recorder/Scanner header (mixed-case keys, vendor keys, multi-line lists, CRLF)."""
    cam = CAMERAS[camera]
    waves = _wavelengths(cam.first_nm, cam.last_nm, bands)
    head = [
        "ENVI", "description = {", "File Imported into ENVI}", "file type = ENVI",
        f"sensor type = {cam.sensor_type}", f"acquisition date = DATE(yyyy-mm-dd): {date}",
        f"Start Time = UTC TIME: {time}", "Stop Time = UTC TIME: 14:46:19", f"samples = {samples}",
        f"bands = {bands}", f"lines = {lines}", "errors = {none}", "interleave = bil", f"data type = {data_type}",
        "header offset = 0", "byte order = 0", "x start = 0", "y start = 0",
        f"default bands = {{{max(1, bands * 9 // 20)}, {max(1, bands // 4)}, 1}}",
        f"himg = {{1, {samples}}}", f"vimg = {{1, {bands}}}", f"hroi = {{1, {samples}}}", f"vroi = {{1, {bands}}}",
        "fps = 29.94", "fps_qpf = 29.84", "tint = 28.000000", "binning = {2, 2}", "trigger mode = Internal",
        "fodis = {0, 0}", f"sensorid = {cam.sensor_id}", "acquisitionwindow left = 0", "acquisitionwindow top = 0",
        f"calibration pack = C:/Users/Public/Documents/Specim/{cam.sensor_id}_20190115_calpack.scp",
    ]
    if camera in ("SWIR", "FENIX"):
        head.append("SWIR temperature = 147.00")
    head += ["Scb temperature channel1 = 28.19", "Scb temperature channel4  = 22.26"]
    head += _multiline("temperature", ["147.00", "28.19", "21.76", "29.76", "22.26"])
    head += _multiline(cam.wavelength_key, waves)
    head += _multiline("fwhm", ["5.50"] * bands)
    if units is not None:
        head.append(f"wavelength units = {units}")
    return _crlf(head)


def _cube(lines: int, samples: int, bands: int) -> np.ndarray[Any, Any]:
    """Return a deterministic BIL uint16 cube of 12-bit DN: (lines, bands, samples)."""
    ln = np.arange(lines)[:, None, None]
    bd = np.arange(bands)[None, :, None]
    sm = np.arange(samples)[None, None, :]
    cube: np.ndarray[Any, Any] = ((600 + 90 * bd + 7 * ln + 13 * sm) % 4096).astype("<u2")
    return cube


def _reference(lines: int, samples: int, bands: int, base: int) -> np.ndarray[Any, Any]:
    """Return a reference whose lines differ (so that the mean over lines is not an integer)."""
    ln = np.arange(lines)[:, None, None] % 3
    bd = np.arange(bands)[None, :, None]
    sm = np.arange(samples)[None, None, :] % 2
    ref: np.ndarray[Any, Any] = (base + ln + 4 * bd + sm).astype("<u2")
    return ref


def _put(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _xml(root_tag: str, rows: list[tuple[str, str]]) -> bytes:
    body = "".join(f'  <key field="{k}">{v}</key>\r\n' for k, v in rows)
    return f'<?xml version="1.0" encoding="UTF-8"?>\r\n<{root_tag}>\r\n{body}</{root_tag}>\r\n'.encode()


def write_iq_folder(parent: str | os.PathLike[str], *, name: str = "2021-02-03_005", lines: int = 8,
                    samples: int = 6, bands: int = 12, white_dark: bool = False,
                    date: str = "03-02-2021") -> Path:
    """Write a SPECIM IQ dataset folder ``parent/name`` and return it.

    The tree is the IQ one: ``.validated``, ``capture/`` (recording + one-line DARKREF_/WHITEREF_, plus
    WHITEDARKREF_ when ``white_dark``), ``<name>.png``, ``manifest.xml``, ``metadata/<name>.xml`` and
    ``results/`` (float32 REFLECTANCE_ cube and PNG previews).
    """
    root = Path(parent) / name
    cube = _cube(lines, samples, bands)
    dark, white = _reference(1, samples, bands, 64), _reference(1, samples, bands, 3900)
    files: dict[str, bytes] = {
        ".validated": b"",
        f"capture/{name}.hdr": iq_header(lines=lines, samples=samples, bands=bands, date=date),
        f"capture/{name}.raw": cube.tobytes(),
        f"capture/DARKREF_{name}.hdr": iq_header(lines=1, samples=samples, bands=bands, date=date),
        f"capture/DARKREF_{name}.raw": dark.tobytes(),
        f"capture/WHITEREF_{name}.hdr": iq_header(lines=1, samples=samples, bands=bands, date=date),
        f"capture/WHITEREF_{name}.raw": white.tobytes(),
        f"{name}.png": tiny_png(),
        f"metadata/{name}.xml": _xml("metadata", [("device", "SPECIM IQ"), ("date", date), ("latitude", "0")]),
    }
    if white_dark:
        files[f"capture/WHITEDARKREF_{name}.hdr"] = iq_header(lines=1, samples=samples, bands=bands, date=date)
        files[f"capture/WHITEDARKREF_{name}.raw"] = _reference(1, samples, bands, 70).tobytes()
    reflectance = ((cube.astype("<f4") - dark) / (white.astype("<f4") - dark)).astype("<f4")
    files[f"results/REFLECTANCE_{name}.hdr"] = iq_header(lines=lines, samples=samples, bands=bands, date=date,
                                                         data_type=4)
    files[f"results/REFLECTANCE_{name}.dat"] = reflectance.tobytes()
    for kind in ("REFLECTANCE", "RGBBACKGROUND", "RGBSCENE", "RGBVIEWFINDER"):
        files[f"results/{kind}_{name}.png"] = tiny_png(level=60)
    files["manifest.xml"] = _iq_manifest(name, files)
    for rel, data in files.items():
        _put(root, rel, data)
    return root


def _iq_manifest(name: str, files: dict[str, bytes]) -> bytes:
    kinds = {"DARKREF_": "darkref", "WHITEREF_": "whiteref", "WHITEDARKREF_": "whitedarkref",
             "REFLECTANCE_": "reflectance"}
    rows = []
    for rel in sorted(files):
        if rel.startswith((".", "metadata/")):
            continue
        base = rel.rsplit("/", 1)[-1]
        kind = next((v for k, v in kinds.items() if base.startswith(k)), "raw")
        kind = "preview" if base.endswith(".png") else kind
        rows.append(f'  <file type="{kind}" extension="{base.rsplit(".", 1)[-1]}">{rel}</file>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n<manifest>\r\n' + "\r\n".join(rows) +
            "\r\n</manifest>\r\n").encode()


def write_lumo_folder(parent: str | os.PathLike[str], *, camera: str = "FX10e", name: str | None = None,
                      lines: int = 10, samples: int = 8, bands: int = 12, reference_lines: int = 5,
                      units: str | None = None) -> Path:
    """Write a Lumo Recorder/Scanner dataset folder ``parent/name`` and return it.

    ``capture/`` holds ``<id>.hdr/.raw/.log`` and ``DARKREF_<id>``/``WHITEREF_<id>`` with ``reference_lines``
    lines each (their own headers and logs); ``metadata/<id>.xml`` (Lumo XML), ``manifest.xml`` and
    ``<id>.png`` sit beside it. ``camera`` is one of :data:`CAMERAS`.
    """
    rec_id = name or f"{camera}_sample_001"
    root = Path(parent) / rec_id
    files: dict[str, bytes] = {
        f"capture/{rec_id}.hdr": lumo_header(camera, lines=lines, samples=samples, bands=bands, units=units),
        f"capture/{rec_id}.raw": _cube(lines, samples, bands).tobytes(),
        f"capture/{rec_id}.log": _log(lines),
    }
    for prefix, base in (("DARKREF_", 80), ("WHITEREF_", 3700)):
        files[f"capture/{prefix}{rec_id}.hdr"] = lumo_header(camera, lines=reference_lines, samples=samples,
                                                             bands=bands, units=units)
        files[f"capture/{prefix}{rec_id}.raw"] = _reference(reference_lines, samples, bands, base).tobytes()
        files[f"capture/{prefix}{rec_id}.log"] = _log(reference_lines)
    files[f"metadata/{rec_id}.xml"] = _xml("properties", [("sensor", CAMERAS[camera].sensor_type),
                                                          ("frames", str(lines)), ("operator", "hsi-conform")])
    files["manifest.xml"] = ('<?xml version="1.0" encoding="UTF-8"?>\r\n<manifest>\r\n'
                             f'  <file type="raw" extension="hdr">capture/{rec_id}.hdr</file>\r\n'
                             "</manifest>\r\n").encode()
    files[f"{rec_id}.png"] = tiny_png()
    for rel, data in files.items():
        _put(root, rel, data)
    return root


def _log(frames: int) -> bytes:
    return _crlf(["Lumo Recorder - Dropped Frame Log", "No dropped frames", f"{frames} frames recorded"])
