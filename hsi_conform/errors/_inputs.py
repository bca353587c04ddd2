"""Errors about an input's content: headers, fields, read procedures, containers (spec/safety.md#errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from hsi_conform.errors._codes import ExitCode, HsiConformError

if TYPE_CHECKING:
    from hsi_conform.finding import Finding


class NotAnEnviHeaderError(HsiConformError):
    """The text is not an ENVI header at all (e.g. the first line is not ``ENVI``).

    Attributes:
        reason: What is wrong.
        offset: Byte offset of the problem in the header text.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, offset: int = 0) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason, offset)

    def __str__(self) -> str:
        return f"not an ENVI header at byte {self.offset}: {self.reason}"


class FieldValueError(HsiConformError):
    """A header field value cannot be interpreted as its kind.

    Attributes:
        field: Normalised header key.
        item: 0-based list item index, or None for the whole value.
        reason: What is wrong with the value.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, field: str, item: int | None, reason: str) -> None:
        self.field = field
        self.item = item
        self.reason = reason
        super().__init__(field, item, reason)

    def __str__(self) -> str:
        where = self.field if self.item is None else f"{self.field}[{self.item}]"
        return f"invalid value for {where!r}: {self.reason}"


class NoSuchFieldError(HsiConformError, KeyError):
    """A header has no field of that key; also a ``KeyError`` (``header["samples"]``).

    Attributes:
        key: The key as given.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)

    def __str__(self) -> str:
        return f"the header has no field {self.key!r}"


class ProcedureError(HsiConformError, ValueError):
    """An item of ``read procedures`` that is not a valid procedure (also a ``ValueError``).

    Attributes:
        reason: What is wrong, e.g. ``"crop range 5:2 ends before it starts"``.
        item: The 0-based index of the item in the list (None when a single item was parsed).
        column: The 1-based column in the item's text where parsing failed, if known.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, reason: str, *, item: int | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.item = item
        self.column = column
        where = "" if item is None else f"item {item}: "
        super().__init__(where + reason)


class InapplicableProcedureError(ProcedureError):
    """A ``read procedures`` list that cannot be re-enacted on its cube; nothing is written then.

    Raised by the executor (:func:`hsi_conform.apply_procedures`, spec/procedures.md#errors) for an invalid or
    unknown procedure, a crop beyond the cube, a merge whose cube is missing, outside the container's folder or
    of other bands, a micro-service the caller did not allow or that is not installed. The procedure list is at
    fault, as a nonconformant file is: the exit code is ``NONCONFORMANT``. Also a ``ValueError``.

    Attributes:
        reason: What is wrong.
        item: The 0-based index of the procedure in the list (None when the whole list is concerned).
        finding: The finding this stands for, with the rule that names the problem (``FLD022`` for a crop
            beyond the cube, ...) and its location (``data.hdr``, field ``read procedures``, the item), or None
            when no rule covers it.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __init__(self, reason: str, *, item: int | None = None, finding: Finding | None = None) -> None:
        super().__init__(reason, item=item)
        self.finding = finding
        self.args = (reason, item, finding)  # what __reduce__ hands back, so that it pickles

    def __reduce__(self) -> tuple[type[InapplicableProcedureError], tuple[str], dict[str, object]]:
        return type(self), (self.reason,), {"item": self.item, "finding": self.finding, "args": self.args}

    def __str__(self) -> str:
        rule = f" [{self.finding.rule}]" if self.finding is not None else ""
        where = "" if self.item is None else f"item {self.item}: "
        return f"cannot re-enact read procedures{rule}: {where}{self.reason}"


class ContainerError(HsiConformError):
    """The container (or one member of it) cannot be used as required.

    Attributes:
        member: Member path inside the container, or None for the archive itself.
        reason: What is wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, member: str | None, reason: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(member, reason)

    def __str__(self) -> str:
        if self.member is None:
            return f"container error: {self.reason}"
        return f"container error in member {self.member!r}: {self.reason}"


class NoSuchMemberError(ContainerError, KeyError):
    """The container has no member of that name; also a ``KeyError`` (``container["x.txt"]``, ``info("x.txt")``).

    Attributes:
        member: The name as given.
        reason: ``"no such member"``.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.UNREADABLE

    def __init__(self, member: str, reason: str = "no such member") -> None:
        super().__init__(member, reason)


class ContainerClosedError(ContainerError, ValueError):
    """A container used after :meth:`~hsi_conform.container.reader.Container.close` (also a ``ValueError``).

    Like a closed file's ``ValueError: I/O operation on closed file`` and rasterio's "Dataset is closed": the
    caller's mistake, as an invalid argument is (exit code ``USAGE``). Arrays handed out before closing stay
    valid.

    Attributes:
        member: None.
        reason: ``"container is closed"``.
        location: The container as given (a path or a URL).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, location: str, reason: str = "container is closed") -> None:
        self.location = location
        super().__init__(None, reason)
        self.args = (location, reason)  # what __init__ takes, so that it pickles

    def __str__(self) -> str:
        return f"{self.reason}: {self.location}"


class MemberNameError(ContainerError, ValueError):
    """A member name that a writer refuses: it could land outside the destination on some OS, or is not portable.

    Judged by the one name policy of the strict reader (spec/safety.md#refused-names). A ``ValueError`` too, as the
    container writer raised before. The exit code is ``NONCONFORMANT``: the source holding the name is at fault.

    Attributes:
        member: The name as given.
        codes: The name policy's codes (``name-traversal``, ``name-drive``, ...).
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __init__(self, member: str, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        super().__init__(member, f"refused member name ({', '.join(self.codes)})")
        self.args = (member, self.codes)  # what __init__ takes, so that it pickles

    def __str__(self) -> str:
        return (f"refusing to write the member name {self.member!r} ({', '.join(self.codes)}): it could land "
                "outside the destination or is not portable; nothing was written")


class MemberCrcError(ContainerError):
    """A member copied verbatim from a container does not match the CRC-32 its central directory gives it.

    A writer that checks a member's CRC from the bytes it copies (the ENVI export's ``data.envi``,
    spec/safety.md#crc-while-copying) raises it and publishes nothing; ``convert`` then judges the source in full
    and reports it as a :class:`NonconformantSourceError`, as it would have before the copy. The exit code is
    ``NONCONFORMANT``.

    Attributes:
        member: The member.
        reason: The CRC found and the one expected.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT


class DataBudgetError(ContainerError):
    """A conversion would write more than the source holds: members share bytes of a file.

    An overlap bomb makes thousands of members out of one region of the file; every writer refuses it before
    writing anything (spec/safety.md#overlaps). The exit code is ``NONCONFORMANT``.

    Attributes:
        member: The member that reads bytes another member reads.
        reason: What is wrong.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.NONCONFORMANT

    def __str__(self) -> str:
        return f"refusing to convert: member {self.member!r} {self.reason}; nothing was written"
