"""The SPECIM mapping table (``converters/specim.toml``) as typed, compiled data."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from hsi_conform.converters.base import mapping_table
from hsi_conform.errors import InternalError
from hsi_conform.members import CALIBRATION_REFERENCES


@dataclass(frozen=True, slots=True)
class TimeForm:
    """One vendor date or time form: a compiled regex with named groups and the zone it implies."""

    name: str
    pattern: re.Pattern[str]
    zone: str = ""


@dataclass(frozen=True, slots=True)
class UnitRule:
    """Infer ``unit`` when ``min_above < min(wavelength)`` and ``max(wavelength) < max_below``."""

    min_above: float
    max_below: float
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecimTable:
    """Everything vendor-specific the SPECIM converter needs (see the comments in ``converters/specim.toml``)."""

    capture_dir: str
    iq_markers: tuple[str, ...]
    header_suffix: str
    data_suffixes: tuple[str, ...]
    other_prefixes: tuple[str, ...]
    reference_prefixes: dict[str, str]
    originals: str
    manifest: str
    manifest_format: str
    manifest_version: int
    file_types: dict[str, str]
    lower_values: tuple[str, ...]
    renames: dict[str, str]
    rename_prefix: str
    measurement_from_id: bool
    vendor_keys: frozenset[str]
    date_keys: tuple[str, ...]
    time_keys: tuple[str, ...]
    invalid_time_rename: str
    dates: tuple[TimeForm, ...]
    times: tuple[TimeForm, ...]
    unit_rules: tuple[UnitRule, ...]
    unit_comment: str
    reference_data_type: int
    reference_comment: str
    export: dict[str, str]
    export_references: dict[str, str]

    def reference_of(self, file_name: str) -> tuple[str, str] | None:
        """Return ``(prefix, reference name)`` when a capture/ file name starts with a reference prefix."""
        upper = file_name.upper()
        for prefix in sorted(self.reference_prefixes, key=len, reverse=True):
            if upper.startswith(prefix.upper()):
                return prefix, self.reference_prefixes[prefix]
        return None

    def is_other(self, file_name: str) -> bool:
        """Return whether a capture/ file is processed data, not the recording."""
        upper = file_name.upper()
        return any(upper.startswith(p.upper()) for p in self.other_prefixes)


def _forms(items: list[dict[str, Any]]) -> tuple[TimeForm, ...]:
    return tuple(TimeForm(str(i["name"]), re.compile(str(i["pattern"]), re.IGNORECASE), str(i.get("zone", "")))
                 for i in items)


@functools.cache
def specim_table() -> SpecimTable:
    """Return the parsed SPECIM mapping table (read once)."""
    t = mapping_table("specim")
    layout, container, header = t["layout"], t["container"], t["header"]
    when, units, refs = t["acquisition_time"], t["wavelength_units"], t["references"]
    export = {k: str(v) for k, v in t["export"].items() if not isinstance(v, dict)}
    prefixes = {str(k): str(v) for k, v in layout["references"].items()}
    export_references = {str(k): str(v) for k, v in t["export"]["references"].items()}
    _documented_references([*prefixes.values(), *export_references])
    return SpecimTable(
        capture_dir=str(layout["capture_dir"]),
        iq_markers=tuple(layout["iq_markers"]),
        header_suffix=str(layout["header_suffix"]),
        data_suffixes=tuple(layout["data_suffixes"]),
        other_prefixes=tuple(layout["other_prefixes"]),
        reference_prefixes=prefixes,
        originals=str(container["originals"]),
        manifest=str(container["manifest"]),
        manifest_format=str(container["manifest_format"]),
        manifest_version=int(container["manifest_version"]),
        file_types={str(k).lower(): str(v) for k, v in header["file_type"].items()},
        lower_values=tuple(header["lower_values"]["keys"]),
        renames={str(k): str(v) for k, v in header["renames"].items()},
        rename_prefix=str(header["rename_conflict"]["prefix"]),
        measurement_from_id=bool(header["measurement"]["from_id"]),
        vendor_keys=frozenset(header["vendor"]["keys"]),
        date_keys=tuple(when["date_keys"]),
        time_keys=tuple(when["time_keys"]),
        invalid_time_rename=str(when["invalid_rename"]),
        dates=_forms(when["dates"]),
        times=_forms(when["times"]),
        unit_rules=tuple(UnitRule(float(r["min_above"]), float(r["max_below"]), str(r["unit"]))
                         for r in units["infer"]),
        unit_comment=str(units["marker"]["comment"]),
        reference_data_type=int(refs["data_type"]),
        reference_comment=str(refs["comment"]),
        export=export,
        export_references=export_references,
    )


def _documented_references(names: list[str]) -> None:
    """Refuse a table that maps a vendor reference to a name the container layout does not document.

    The names of ``Reference/`` are one fact of :mod:`hsi_conform.members`; the table only pairs vendor prefixes
    with them, so a typo there would write a reference that the calibration and the rules never see.

    Raises:
        InternalError: a name is not one of :data:`~hsi_conform.members.CALIBRATION_REFERENCES`.
    """
    unknown = sorted(set(names) - set(CALIBRATION_REFERENCES))
    if unknown:
        raise InternalError(f"converters/specim.toml names references {unknown} that hsi_conform/members.py does not "
                            f"document ({', '.join(CALIBRATION_REFERENCES)})")
