"""Metadata harmonisation: a container's metadata as STAC, IEEE 4001 or CF JSON, and such JSON into ``Metadata/``.

``export_metadata`` writes (or returns) one document; ``import_metadata`` writes a NEW container holding the source's
members and the document under ``Metadata/`` (never in place). The mapping is the crosswalk
(``converters/crosswalk.toml``, :mod:`hsi_conform.crosswalk`); decisions: spec/metadata-crosswalk.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hsi_conform._atomic import publish_text
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.crosswalk import crosswalk
from hsi_conform.errors import DatasetError, InputUnreadableError, InvalidArgumentError, OutputUnwritableError
from hsi_conform.members import IMPORTED_METADATA
from hsi_conform.metadata.cf_attrs import cf_attributes
from hsi_conform.metadata.ieee4001 import ieee4001_document
from hsi_conform.metadata.stac import container_name, stac_item
from hsi_conform.pipeline.output import publish
from hsi_conform.remote import is_url

__all__ = ["KINDS", "document_kind", "export_metadata", "import_metadata", "metadata_document"]

KINDS: tuple[str, ...] = tuple(IMPORTED_METADATA)
"""The document kinds: ``ieee4001``, ``stac``, ``cf``."""


def metadata_document(container: Container, kind: str, *, href: str | None = None) -> dict[str, Any]:
    """Return the metadata document of one kind for an open container.

    Args:
        container: the container.
        kind: one of :data:`KINDS`.
        href: how a STAC Item refers to the container (default: the container's file name).

    Raises:
        InvalidArgumentError: an unknown kind.
        DatasetError: the container lacks what the document needs (a STAC Item needs a time).
        MissingDependencyError: a STAC footprint needs pyproj (the ``stac`` extra).
    """
    if kind == "stac":
        return stac_item(container, href or container.url or container_name(container))
    if kind == "ieee4001":
        return ieee4001_document(container)
    if kind == "cf":
        return cf_attributes(container)
    raise InvalidArgumentError(f"unknown metadata kind {kind!r} (expected one of {', '.join(KINDS)})")


def export_metadata(source: str | os.PathLike[str], kind: str, out: str | os.PathLike[str] | None = None) -> str:
    """Return the JSON text of a container's metadata document, and publish it atomically to ``out`` when given.

    ``source`` is a path or a URL (spec/remote.md). A STAC Item refers to a local container by its path relative to
    ``out``'s folder (its file name without ``out``), to a remote one by its URL
    (spec/metadata-crosswalk.md#stac-assets).

    Raises:
        InvalidArgumentError, DatasetError, MissingDependencyError: see :func:`metadata_document`.
        OutputIsInputError: ``out`` is the container.
    """
    remote = isinstance(source, str) and is_url(source)
    if out is not None and not remote:
        refuse_output_on_input([Path(out)], [Path(source)])
    with open_container(source) as container:
        href = None
        if out is not None and not container.remote:
            href = Path(os.path.relpath(container.path.resolve(), Path(out).resolve().parent)).as_posix()
        text = json.dumps(metadata_document(container, kind, href=href), indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        try:
            publish_text(Path(out), text)
        except OSError as exc:
            raise OutputUnwritableError.from_os_error(str(out), exc) from exc
    return text


def document_kind(document: Any) -> str | None:
    """Return the kind of a parsed metadata document; None when it is none of :data:`KINDS`.

    A STAC Item is a GeoJSON Feature with a ``stac_version``; an IEEE 4001 document carries the crosswalk's format
    name; CF attributes are an object with a ``global`` object whose ``Conventions`` names CF.
    """
    if not isinstance(document, dict):
        return None
    if document.get("type") == "Feature" and "stac_version" in document:
        return "stac"
    if document.get("format") == crosswalk().ieee4001["format"]:
        return "ieee4001"
    conventions = document.get("global", {}).get("Conventions") if isinstance(document.get("global"), dict) else None
    if isinstance(conventions, str) and conventions.startswith("CF-"):
        return "cf"
    return None


def import_metadata(source: str | os.PathLike[str], document: str | os.PathLike[str],
                    dest: str | os.PathLike[str]) -> tuple[Path, str]:
    """Write ``dest``: the members of ``source`` plus ``document`` under ``Metadata/``.

    The document is stored byte for byte under the name of its kind (:data:`~hsi_conform.members.IMPORTED_METADATA`),
    replacing a member of that name; the header is not changed (spec/metadata-crosswalk.md#import).

    Returns:
        The destination and the member the document was stored as.

    Raises:
        InvalidArgumentError: ``source`` is a URL (the copy is written from a local container).
        InputUnreadableError: the document cannot be read.
        DatasetError: the document is not JSON or not a metadata document of a known kind.
        OutputIsInputError: ``dest`` is the source or the document.
    """
    if isinstance(source, str) and is_url(source):
        raise InvalidArgumentError("--from writes a copy of a local container: download the remote one first")
    path = Path(document)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(path), exc) from exc
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"not a JSON document: {exc}", str(path)) from None
    kind = document_kind(parsed)
    if kind is None:
        raise DatasetError("neither a STAC Item, an IEEE 4001 metadata document nor CF attributes "
                           "(spec/metadata-crosswalk.md#import)", str(path))
    refuse_output_on_input([Path(dest)], [path])
    member = IMPORTED_METADATA[kind]
    with open_container(source) as container:
        return publish(container, dest, add={member: raw}), member
