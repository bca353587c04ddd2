"""``microservice:NAME``: code the caller installed and allowed by name (spec/procedures.md#microservices).

A micro-service is a callable registered in the ``hsi_conform.microservices`` entry-point group under NAME (a
distribution declares ``[project.entry-points."hsi_conform.microservices"] NAME = "package.module:function"``).
It runs only when the caller names it too: ``apply_procedures(..., allow_microservices=("NAME",))``, or
``hsi-conform procedures --allow-microservice NAME``. A name nobody allowed, or that no installed distribution
provides, stops the executor (rule FLD021). A file never makes hsi-conform run code: it only names code that the
caller installed and trusts.

The protocol is :class:`MicroserviceFunction`: ``service(container, data)``, with ``data`` the cube as the
procedures before it leave it, in (lines, samples, bands) order, in memory. It returns the new cube in the same order
(any shape, any data type ENVI can store), or ``(cube, fields)`` where ``fields`` are header fields describing it
(e.g. the ``wavelength`` of new bands: what the executor cannot know). A service sees the whole cube at once, so it
does not stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol

import numpy as np

from hsi_conform.container.reader import Container
from hsi_conform.errors import HsiConformError
from hsi_conform.fields import DataType
from hsi_conform.pipeline.findings import inapplicable

__all__ = ["GROUP", "MicroserviceFunction", "installed", "load", "run"]

#: The entry-point group of micro-services.
GROUP = "hsi_conform.microservices"
_RULE = "FLD021"


class MicroserviceFunction(Protocol):
    """What a micro-service entry point loads: a callable from the container and a cube to a cube."""

    def __call__(self, container: Container, data: np.ndarray[Any, Any], /) -> object:
        """Return the processed cube, (lines, samples, bands), or ``(cube, header fields)``."""
        ...


def installed() -> list[str]:
    """Return the names of the installed micro-services, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load(name: str, allowed: Iterable[str]) -> MicroserviceFunction:
    """Return the micro-service ``name`` when the caller allowed it and it is installed.

    Raises:
        InapplicableProcedureError: ``name`` is not in ``allowed``, not installed, or does not load as a callable
            (rule FLD021).
    """
    if name not in set(allowed):
        raise inapplicable(f"micro-service {name!r} is not allowed: it runs code the container does not hold; "
                           f"allow it by name (--allow-microservice {name}) if you trust it", _RULE)
    found = sorted((ep for ep in entry_points(group=GROUP) if ep.name == name), key=lambda ep: ep.value)
    if not found:
        have = ", ".join(installed()) or "none"
        raise inapplicable(f"micro-service {name!r} is not installed (entry-point group {GROUP}; installed: "
                           f"{have})", _RULE)
    try:
        service = found[0].load()
    except Exception as exc:  # a broken plugin is the plugin's fault, not hsi-conform's
        raise inapplicable(f"micro-service {name!r} ({found[0].value}) cannot be loaded: {exc}", _RULE) from exc
    if not callable(service):
        raise inapplicable(f"micro-service {name!r} ({found[0].value}) is not callable", _RULE)
    return service  # type: ignore[no-any-return]


def run(service: MicroserviceFunction, name: str, container: Container,
        data: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], dict[str, object]]:
    """Run a loaded micro-service and check what it returns.

    Returns:
        The new cube and the header fields the service gave for it (empty when it gave none).

    Raises:
        InapplicableProcedureError: the service failed, or returned no 3-D array of an ENVI data type.
    """
    try:
        result = service(container, data)
    except HsiConformError:
        raise  # e.g. a member it reads is unreadable: the error says which
    except Exception as exc:  # the service's own failure: report it, never as an internal error of ours
        raise inapplicable(f"micro-service {name!r} failed: {type(exc).__name__}: {exc}") from exc
    cube, fields = result if isinstance(result, tuple) and len(result) == 2 else (result, {})
    if not isinstance(cube, np.ndarray) or cube.ndim != 3 or 0 in cube.shape:
        what = getattr(cube, "shape", type(cube).__name__)
        raise inapplicable(f"micro-service {name!r} returned {what}, not a non-empty (lines, samples, bands) array")
    if not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields):
        raise inapplicable(f"micro-service {name!r} returned header fields that are not a mapping of names")
    try:
        DataType.from_dtype(cube.dtype)
    except HsiConformError as exc:
        raise inapplicable(f"micro-service {name!r} returned {exc}") from exc
    return cube, dict(fields)
