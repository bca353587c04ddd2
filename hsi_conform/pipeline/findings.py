"""The findings a ``read procedures`` list that cannot be re-enacted stands for (spec/procedures.md#errors).

Each :class:`~hsi_conform.errors.InapplicableProcedureError` carries a :class:`~hsi_conform.finding.Finding` of the
rule that names its problem (the rules of spec/semantics.md#read-procedures and #file-references), located at the
item of ``read procedures`` in ``data.hdr``. It is graded ERROR whatever the rule's default: the executor stops there.
"""

from __future__ import annotations

import dataclasses

from hsi_conform.errors import InapplicableProcedureError
from hsi_conform.finding import Finding, Location, Severity
from hsi_conform.members import CUBE_HEADER
from hsi_conform.rules import get_rule, load_builtin_rules

__all__ = ["FIELD", "at_item", "inapplicable"]

#: The header field the procedures come from.
FIELD = "read procedures"


def inapplicable(reason: str, rule: str | None = None, *, item: int | None = None) -> InapplicableProcedureError:
    """Return the error for ``reason``, with the finding of ``rule`` (None: no rule covers it)."""
    finding = None
    if rule is not None:
        load_builtin_rules()
        spec = get_rule(rule)
        finding = Finding(rule=spec.id, name=spec.name, severity=Severity.ERROR, level=spec.level, spec=spec.spec,
                          message=reason, location=Location(member=CUBE_HEADER, field=FIELD, item=item))
    return InapplicableProcedureError(reason, item=item, finding=finding)


def at_item(error: InapplicableProcedureError, item: int) -> InapplicableProcedureError:
    """Return ``error`` located at item ``item`` of the list (unchanged when it already names one)."""
    if error.item is not None:
        return error
    finding = error.finding
    if finding is not None:
        finding = dataclasses.replace(finding, location=dataclasses.replace(finding.location, item=item))
    return InapplicableProcedureError(error.reason, item=item, finding=finding)
