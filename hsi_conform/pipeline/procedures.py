"""The executor of ``read procedures``: re-enact them in order on the cube (spec/procedures.md).

D4.1 §2.6 lists processing steps "that should be reenacted in the given order on the given data before
visualization". :func:`plan_procedures` turns the header's list into a chain of stages
(:mod:`hsi_conform.pipeline.stages`): consecutive ``crop`` and ``rotate`` items compose into one index stage,
``resample`` (:mod:`.resample`) and ``merge`` (:mod:`.merge`) add theirs, a ``microservice`` runs a plugin the caller
allowed (:mod:`.microservices`). Nothing is computed while planning (except a micro-service, which needs the whole
cube): :func:`apply_procedures` computes the result in memory, :func:`write_procedures` streams it into a new
container slab by slab, with the header (:mod:`.procedure_fields`) and the other members
(:mod:`.procedure_members`) made to match.

A list that cannot be re-enacted raises :class:`~hsi_conform.errors.InapplicableProcedureError` carrying the
finding of the rule that names the problem (spec/procedures.md#errors).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np

from hsi_conform._outputs import refuse_output_on_input
from hsi_conform._version import __version__
from hsi_conform.container.reader import Container
from hsi_conform.container.write import ComputedCube
from hsi_conform.errors import HsiConformError, InapplicableProcedureError, InvalidArgumentError, ProcedureError
from hsi_conform.fields import Interleave
from hsi_conform.header import Header, parse_header
from hsi_conform.header.procedures import Crop, Merge, Microservice, Procedure, Resample, Rotate, parse_procedure
from hsi_conform.pipeline import merge, microservices
from hsi_conform.pipeline.findings import FIELD, at_item, inapplicable
from hsi_conform.pipeline.output import local_array, publish
from hsi_conform.pipeline.procedure_fields import edit_index, edit_merge, edit_resample, edit_service, finish
from hsi_conform.pipeline.procedure_members import MemberChanges, member_changes
from hsi_conform.pipeline.resample import ResampleStage
from hsi_conform.pipeline.stages import ArrayStage, IndexStage, LineSource, SourceStage, Stage, read_all, storage_order

__all__ = ["MAX_PROCEDURES", "Plan", "apply_procedures", "plan_procedures", "procedure_items", "write_procedures"]

#: Longest list the executor takes (the validator parses as many, spec/semantics.md#read-procedures).
MAX_PROCEDURES = 1000

Data = np.ndarray[Any, Any] | LineSource | None
"""What the procedures run on: None (the cube), an array or a line source, in (lines, samples, bands) order."""


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of the plan, the cube size before it and header fields its micro-service gave."""

    stage: Stage
    before: tuple[int, int, int]
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """The planned result of a container's ``read procedures``: a chain of stages, not yet computed.

    Use it as a context manager: merged containers stay open until it closes.

    Attributes:
        container: the source container.
        source: the stage of the data the procedures run on.
        steps: the stages in order (consecutive crops and rotations are one step).
        applied: the procedure items re-enacted, as written in the header.
    """

    container: Container
    source: Stage
    steps: list[Step] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    _opened: list[Container] = field(default_factory=list)
    _fill: tuple[Any, bool] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the containers opened for merges."""
        for other in self._opened:
            other.close()
        self._opened.clear()

    @property
    def stage(self) -> Stage:
        """The last stage: the result."""
        return self.steps[-1].stage if self.steps else self.source

    @property
    def index_only(self) -> IndexStage | None:
        """The composed crop/rotate stage when every procedure was a crop or a rotate (pixels only picked)."""
        if len(self.steps) == 1 and isinstance(self.steps[0].stage, IndexStage):
            return self.steps[0].stage
        return None

    @property
    def changed(self) -> bool:
        """Whether the result differs from the data (False for no procedures, or turns that cancel out)."""
        index = self.index_only
        return bool(self.steps) and (index is None or not index.is_identity)

    def header(self) -> tuple[Header, MemberChanges]:
        """Return the header of the result and what happens to the other members (spec/procedures.md#header)."""
        header = parse_header(self.container.header.to_bytes())
        notes: list[str] = []
        for step in self.steps:
            _edit(header, step, notes)
        changes = member_changes(self.container, self.index_only, self.changed)
        for key in changes.remove_fields:
            header.remove(key)
        if self._fill is not None and not self._fill[1]:
            notes.append(f"merge canvas pixels that no cube covers hold {self._fill[0]}")
        finish(header, self.stage.dtype, self._record(notes + changes.notes))
        return header, changes

    def _record(self, notes: list[str]) -> str:
        done = "; ".join(self.applied) if self.applied else "none"
        text = f"hsi-conform {__version__} re-enacted the read procedures: {done}."
        return text + (f" {'; '.join(notes)}." if notes else "")

    def cube(self, interleave: Interleave) -> ComputedCube:
        """Return the result in the storage order of ``interleave``, computed slab by slab while it is written.

        BIL and BIP slabs are output lines; BSQ slabs are output bands (spec/procedures.md#streaming).
        """
        stage = self.stage
        lines, samples, bands = stage.shape

        def compute(start: int, stop: int) -> np.ndarray[Any, Any]:
            if interleave is Interleave.BSQ:
                return storage_order(stage.read((0, lines), (0, samples), (start, stop)), interleave)
            return storage_order(stage.read((start, stop), (0, samples), (0, bands)), interleave)

        return ComputedCube(interleave.shape(lines, samples, bands), np.dtype(stage.dtype), compute)

    # -- planning ----------------------------------------------------------------------------------------------
    def add(self, procedure: Procedure, allow: frozenset[str]) -> None:
        """Add one procedure to the plan.

        Raises:
            InapplicableProcedureError: it cannot apply to the cube as the procedures before leave it.
        """
        lines, samples, bands = self.stage.shape
        if isinstance(procedure, Crop):
            problems = procedure.bound_errors((samples, lines, bands))
            if problems:
                raise inapplicable("; ".join(problems), "FLD022")
            self._index().append_crop(procedure)
        elif isinstance(procedure, Rotate):
            self._index().append_rotate(procedure.direction)
        elif isinstance(procedure, Resample):
            if (procedure.lines, procedure.samples, procedure.bands) != (lines, samples, bands):
                self._push(ResampleStage(self.stage, (procedure.lines, procedure.samples, procedure.bands)))
        elif isinstance(procedure, Merge):
            self._merge(procedure)
        elif isinstance(procedure, Microservice):
            service = microservices.load(procedure.service, allow)
            cube, fields = microservices.run(service, procedure.service, self.container, read_all(self.stage))
            self._push(ArrayStage(cube), fields)
        else:
            raise inapplicable(f"unknown procedure {procedure.name!r}: hsi-conform cannot re-enact it", "FLD020")

    def _push(self, stage: Stage, fields: dict[str, object] | None = None) -> None:
        self.steps.append(Step(stage, self.stage.shape, fields or {}))

    def _index(self) -> _IndexBuilder:
        return _IndexBuilder(self)

    def _merge(self, procedure: Merge) -> None:
        base = self.stage
        placed: list[tuple[Stage, int, int]] = []
        for source in procedure.sources:
            opened = merge.open_source(self.container, source)
            if opened.opened is not None:
                self._opened.append(opened.opened)
            other = opened.stage
            if other.shape[2] != base.shape[2]:
                raise inapplicable(f"merge source {source.id!r} has {other.shape[2]} bands, the cube "
                                   f"{base.shape[2]}: bands must match")
            if not np.can_cast(other.dtype, base.dtype, "safe"):
                raise inapplicable(f"merge source {source.id!r} holds {other.dtype} values, which the cube's "
                                   f"{base.dtype} cannot hold")
            placed.append((other, source.x, source.y))
        fill = merge.fill_value(np.dtype(base.dtype), _ignore_value(self.container))
        stage = merge.MergeStage.build(base, placed, fill)
        self._fill = (fill, stage.covers_all)
        self._push(stage)


@dataclass(frozen=True, slots=True)
class _IndexBuilder:
    """Extends the plan's last step when it is an index stage, else starts one (crops and turns compose)."""

    plan: Plan

    def _current(self) -> IndexStage:
        steps = self.plan.steps
        if steps and isinstance(steps[-1].stage, IndexStage):
            return steps.pop().stage  # type: ignore[return-value]
        return IndexStage.identity(self.plan.stage)

    def _put(self, stage: IndexStage) -> None:
        self.plan.steps.append(Step(stage, stage.parent.shape))

    def append_crop(self, crop: Crop) -> None:
        s, ln, b = crop.samples, crop.lines, crop.bands
        self._put(self._current().crop((s.first, s.last + 1), (ln.first, ln.last + 1), (b.first, b.last + 1)))

    def append_rotate(self, direction: str) -> None:
        self._put(self._current().rotate(direction))


def _edit(header: Header, step: Step, notes: list[str]) -> None:
    stage = step.stage
    if isinstance(stage, IndexStage):
        edit_index(header, stage, notes)
    elif isinstance(stage, ResampleStage):
        edit_resample(header, stage, notes)
    elif isinstance(stage, merge.MergeStage):
        edit_merge(header, stage.shape, stage.origin, notes)
    else:
        edit_service(header, step.before, stage.shape, step.fields, notes)


def _ignore_value(container: Container) -> object:
    try:
        return container.header.value("data ignore value")
    except HsiConformError:
        return None


def procedure_items(container: Container) -> list[str]:
    """Return the items of the container's ``read procedures`` (empty when it has none).

    Raises:
        InapplicableProcedureError: the list is longer than :data:`MAX_PROCEDURES` or never closed (FLD019).
    """
    entry = container.header.get(FIELD)
    if entry is None:
        return []
    if not entry.is_list:
        return [entry.value_raw.strip()] if entry.value_raw.strip() else []
    if entry.items is None:
        raise inapplicable("the list is never closed", "FLD019")
    if len(entry.items) > MAX_PROCEDURES:
        raise inapplicable(f"more than {MAX_PROCEDURES} procedures", "FLD019")
    return list(entry.items)


def plan_procedures(container: Container, data: Data = None, allow_microservices: Iterable[str] = ()) -> Plan:
    """Plan the container's ``read procedures`` on ``data`` (see :func:`apply_procedures`).

    Raises:
        InapplicableProcedureError: a procedure cannot be re-enacted (spec/procedures.md#errors).
        InvalidArgumentError: ``data`` is not a cube of the container's size.
    """
    plan = Plan(container, _source(container, data))
    allow = frozenset(allow_microservices)
    try:
        for index, text in enumerate(procedure_items(container)):
            try:
                plan.add(parse_procedure(text), allow)
            except InapplicableProcedureError as exc:
                raise at_item(exc, index) from exc
            except ProcedureError as exc:
                raise inapplicable(exc.reason, "FLD019", item=index) from exc
            plan.applied.append(" ".join(text.split()))
    except BaseException:
        plan.close()
        raise
    return plan


def _source(container: Container, data: Data) -> Stage:
    layout = container.layout
    shape = (layout.lines, layout.samples, layout.bands)
    if data is None:
        return ArrayStage(local_array(container.bip(), "re-enacting read procedures"))
    if isinstance(data, np.ndarray):
        if data.shape != shape:
            raise InvalidArgumentError(f"data has shape {data.shape}; the cube is (lines, samples, bands) {shape}")
        return ArrayStage(data)
    if callable(data):
        return SourceStage(data, shape, np.dtype(data(0, 1).dtype))
    raise InvalidArgumentError(f"data must be an array or a function of (start, stop), not {type(data).__name__}")


def apply_procedures(container: Container, data: Data = None,
                     allow_microservices: Iterable[str] = ()) -> np.ndarray[Any, Any]:
    """Re-enact the container's ``read procedures``, in order, and return the result (spec/procedures.md).

    Args:
        container: an open container (:func:`hsi_conform.open`).
        data: what to run on, in (lines, samples, bands) order: None for the stored cube, an array of the cube's
            size (e.g. the reflectance of the calibration stage), or a function ``rows(start, stop)`` returning
            those lines of it (computed on demand).
        allow_microservices: the names of the micro-services the caller trusts; ``microservice:NAME`` runs only
            when NAME is here and installed in the ``hsi_conform.microservices`` entry-point group.

    Returns:
        A new array in (lines, samples, bands) order (the data unchanged when there are no procedures).

    Raises:
        InapplicableProcedureError: a procedure cannot be re-enacted: invalid (FLD019) or unknown (FLD020), a crop
            beyond the cube (FLD022), a merge cube outside the folder (FLD023), missing (FLD024) or of other
            bands, a micro-service not allowed or not installed (FLD021), or one that failed.
        InvalidArgumentError: ``data`` is not a cube of the container's size.
        ContainerError, InputUnreadableError: the cube, or a merged one, cannot be read.
    """
    with plan_procedures(container, data, allow_microservices) as plan:
        return np.array(read_all(plan.stage))


def write_procedures(container: Container, dest: str | os.PathLike[str], *, data: Data = None,
                     allow_microservices: Iterable[str] = (), thumbnail: bool = True) -> Path:
    """Write ``dest``: the container with its ``read procedures`` re-enacted, streamed slab by slab.

    The header describes the result (spec/procedures.md#header), the other members follow or are left out
    (spec/procedures.md#members), and the output is published as every pipeline stage publishes
    (spec/pipeline.md#outputs).

    Raises:
        InapplicableProcedureError, InvalidArgumentError: as :func:`apply_procedures`.
        OutputIsInputError: ``dest`` is the source or a merged container.
        NoSpaceError, InUseError, OutputUnwritableError: as :func:`hsi_conform.pipeline.output.publish`.
    """
    path = Path(dest)
    with plan_procedures(container, data, allow_microservices) as plan:
        refuse_output_on_input([path], [container.path, *(c.path for c in plan._opened)])
        if not plan.applied and data is None:
            return publish(container, path, thumbnail=thumbnail)
        header, changes = plan.header()
        cube = plan.cube(container.layout.interleave)
        return publish(container, path, header=header, cube=cube, add=changes.add, drop=changes.drop,
                       thumbnail=thumbnail)
