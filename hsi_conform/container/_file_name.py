"""Member-name policy shared by the strict reader and every writer.

Names are judged twice: each name on its own (:func:`decode_name`, :func:`check_name`) and each name
against the names before it (:class:`NameIndex`). Every problem is a ``(code, message)`` pair; codes are keys
of ``ISSUE_CODES``. Writers (the container writer, and every converter that turns member names into file names
or paths of another format) refuse a name with any problem through :func:`member_parts`, so a name the validator
reports can never be written (spec/safety.md#refused-names).
"""

from __future__ import annotations

import re
import unicodedata

from hsi_conform.errors import MemberNameError
from hsi_conform.limits import DEFAULT_LIMITS
from hsi_conform.members import MemberTree

__all__ = ["FLAG_UTF8", "NameIndex", "Problem", "check_name", "decode_name", "member_parts", "name_problems"]

#: General-purpose flag bit 11: the name (and comment) are UTF-8.
FLAG_UTF8 = 0x800

Problem = tuple[str, str]

_DRIVE = re.compile(r"[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NONPORTABLE = frozenset(':<>|"?*')
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"123456789", "\u00b9", "\u00b2", "\u00b3"]]
)
#: Names with no character any check of :func:`check_name` but length, depth and device names looks at.
_PLAIN_PART = r"[A-Za-z0-9_-](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_PLAIN = re.compile(f"{_PLAIN_PART}(?:/{_PLAIN_PART})*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def decode_name(raw: bytes, flags: int) -> tuple[str, list[Problem]]:
    """Decode a raw member name the way a careful reader must.

    Args:
        raw: Name bytes as stored in the central directory.
        flags: General-purpose bit flags of the entry.

    Returns:
        The decoded name (ASCII, UTF-8 when bit 11 is set, otherwise cp437 like stdlib ``zipfile``; invalid
        UTF-8 becomes U+FFFD) and the encoding problems found.
    """
    if raw.isascii():
        return raw.decode("ascii"), []
    if flags & FLAG_UTF8:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            # U+FFFD rather than escapes: an escape would invent backslashes the name policy then flags.
            return raw.decode("utf-8", "replace"), [
                ("name-encoding", "the UTF-8 flag is set but the name is not valid UTF-8")
            ]
        if not unicodedata.is_normalized("NFC", name):
            return name, [("name-not-nfc", "the name is not in Unicode normalization form C")]
        return name, []
    return raw.decode("cp437"), [
        ("name-nonascii-noflag", "non-ASCII name without the UTF-8 flag; readers decode it as cp437")
    ]


def _is_reserved(component: str) -> bool:
    # Windows ignores extensions and trailing spaces when matching device names ("con .txt" is CON).
    stem = component.split(".", 1)[0].rstrip(" ").upper()
    return stem in _RESERVED


def _component_problems(components: list[str]) -> list[Problem]:
    out: list[Problem] = []
    for comp in dict.fromkeys(components):  # each distinct component once, in order: x/x/.../y has two
        if comp == "..":
            out.append(("name-traversal", "a path component is '..'"))
        elif comp in ("", "."):
            out.append(("name-empty", "the name has an empty or '.' component"))
        elif _is_reserved(comp) or comp.endswith((".", " ")):
            out.append(
                ("name-reserved", f"component {comp!r} is reserved or ends in a dot or space on Windows")
            )
    return out


def _prefix_problems(name: str) -> tuple[list[Problem], str]:
    out: list[Problem] = []
    body = name
    if name.startswith(("\\\\", "//")):
        out.append(("name-drive", "the name starts with a UNC prefix"))
    elif _DRIVE.match(name):
        out.append(("name-drive", "the name starts with a drive letter"))
        body = name[2:]
    if name.startswith("/"):
        out.append(("name-absolute", "the name starts with '/'"))
    if "\\" in name:
        out.append(("name-backslash", "the name contains a backslash"))
    return out, body


def check_name(
    name: str,
    raw: bytes,
    *,
    max_name_bytes: int = DEFAULT_LIMITS.max_name_bytes,
    max_component_bytes: int = DEFAULT_LIMITS.max_component_bytes,
    max_name_depth: int = DEFAULT_LIMITS.max_name_depth,
) -> list[Problem]:
    """Judge one member name against the portable-path policy (in time linear in its length).

    Args:
        name: Decoded name.
        raw: Encoded name bytes (lengths are measured on these).
        max_name_bytes: Maximum total length in bytes.
        max_component_bytes: Maximum length of one component in bytes.
        max_name_depth: Maximum number of components (a directory's trailing ``/`` starts none).

    Returns:
        The problems, at most one per code, in a stable order.
    """
    if not raw:
        return [("name-empty", "the name is empty")]
    if len(raw) <= max_name_bytes and raw.count(b"/") < max_name_depth and _PLAIN.fullmatch(name) is not None:
        # The common name (letters, digits, "_-" and inner dots, "/" between components) can only break the
        # length, depth and device-name rules; when it breaks none, the full judgement finds nothing either. The
        # depth is known before the name is split, so a deep name is never split here.
        components = name.split("/")
        if max(map(len, components)) <= max_component_bytes and not any(map(_is_reserved, components)):
            return []
    return _judge_name(name, raw, max_name_bytes, max_component_bytes, max_name_depth)


def _judge_name(name: str, raw: bytes, max_name_bytes: int, max_component_bytes: int,
                max_name_depth: int) -> list[Problem]:
    """Judge a non-empty name fully: every check of :func:`check_name`, in its order."""
    out: list[Problem] = []
    if len(raw) > max_name_bytes:
        out.append(("name-too-long", f"the name is {len(raw)} bytes long (limit {max_name_bytes})"))
    depth = raw.count(b"/") + (0 if raw.endswith(b"/") else 1)
    if depth > max_name_depth:
        out.append(("name-too-deep", f"the name has {depth} components (limit {max_name_depth})"))
    if _CONTROL.search(name):
        out.append(("name-control", "the name contains a NUL or control character"))
    prefix, body = _prefix_problems(name)
    out.extend(prefix)
    if _NONPORTABLE.intersection(body):
        out.append(("name-nonportable", 'the name contains one of : < > | " ? *'))
    stripped = body.lstrip("/\\")
    if stripped.endswith("/"):
        stripped = stripped[:-1]
    out.extend(_component_problems(_SEPARATORS.split(stripped)))
    longest = max(map(len, raw.split(b"/")))
    if longest > max_component_bytes:
        out.append(
            ("name-component-too-long", f"a component is {longest} bytes long (limit {max_component_bytes})")
        )
    return _dedupe(out)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for p in problems:
        seen.setdefault(p[0], p)
    return list(seen.values())


def name_problems(
    name: str,
    *,
    max_name_bytes: int = DEFAULT_LIMITS.max_name_bytes,
    max_component_bytes: int = DEFAULT_LIMITS.max_component_bytes,
    max_name_depth: int = DEFAULT_LIMITS.max_name_depth,
) -> list[Problem]:
    """Judge a name a writer is about to store (UTF-8, bit 11 when non-ASCII).

    Args:
        name: The member name.
        max_name_bytes: Maximum total length in bytes.
        max_component_bytes: Maximum length of one component in bytes.
        max_name_depth: Maximum number of components.

    Returns:
        Every problem a strict reader would report for this name on its own.
    """
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        return [("name-encoding", "the name contains lone surrogates and cannot be encoded as UTF-8")]
    _, problems = decode_name(raw, FLAG_UTF8)
    problems += check_name(name, raw, max_name_bytes=max_name_bytes, max_component_bytes=max_component_bytes,
                           max_name_depth=max_name_depth)
    return _dedupe(problems)


def member_parts(name: str) -> tuple[str, ...]:
    """Return the path components of a member name a writer may use, or refuse the name.

    The name is judged by :func:`name_problems`, the policy of the strict reader: a name is refused when it could
    land outside a destination on any OS (``..``, ``/abs``, ``C:x``, ``//server/x``, backslashes, control
    characters, NUL), or is not portable (a Windows device name, ``: < > | " ? *``, over-long, not NFC).

    Args:
        name: A member name (a directory's ends with ``/``).

    Returns:
        Its components (``("Metadata", "notes.txt")``), safe to join below a destination folder.

    Raises:
        MemberNameError: The name has a problem; its ``codes`` name them.
    """
    problems = name_problems(name)
    if problems:
        raise MemberNameError(name, [code for code, _ in problems])
    return tuple(name.rstrip("/").split("/"))


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _ascii_lower(name: str) -> str:
    """Return the name with A-Z in lower case and every other character kept."""
    # str.lower() of an ASCII text changes exactly A-Z, ten times faster than a translation table.
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


def _fold_key(name: str, lower: str) -> str:
    # An ASCII name is its own NFC form and folds to its ASCII lower case.
    return lower if name.isascii() else _fold(name)


class NameIndex:
    """Names seen so far, for duplicate, collision and file/directory checks in archive order.

    Each check is linear in the bytes of the name: the directory tree is a
    :class:`~hsi_conform.members.MemberTree`, so no parent path is ever built as a string.
    """

    __slots__ = ("_ascii", "_exact", "_fold", "_tree")

    def __init__(self, *, max_depth: int = DEFAULT_LIMITS.max_name_depth) -> None:
        """Start an empty index.

        Args:
            max_depth: Names are compared component by component down to this depth (deeper ones are too deep).
        """
        self._exact: set[str] = set()
        self._ascii: dict[str, str] = {}
        self._fold: dict[str, str] = {}
        self._tree = MemberTree(max_depth)

    def check(self, name: str) -> list[Problem]:
        """Return the problems ``name`` has with the names already added.

        Args:
            name: Decoded member name.

        Returns:
            Duplicate, collision and file/directory problems (empty when none).
        """
        lower = _ascii_lower(name)
        return self._check(name, lower, _fold_key(name, lower))

    def _check(self, name: str, lower: str, folded: str) -> list[Problem]:
        out: list[Problem] = []
        if name in self._exact:
            out.append(("duplicate-name", f"the name {name!r} occurs more than once"))
        elif (other := self._ascii.get(lower)) is not None:
            out.append(("name-case-collision", f"the name differs from {other!r} only in letter case"))
        elif (other := self._fold.get(folded)) is not None:
            out.append(
                ("name-unicode-collision", f"the name collides with {other!r} after NFC and case folding")
            )
        if self._tree.conflicts(name):
            path = name[:-1] if name.endswith("/") else name
            out.append(("file-dir-conflict", f"{path!r} is used both as a file and as a directory"))
        return out

    def add(self, name: str) -> list[Problem]:
        """Check ``name`` against the names so far, then record it.

        Args:
            name: Decoded member name.

        Returns:
            The problems found by :meth:`check`.
        """
        lower = _ascii_lower(name)
        folded = _fold_key(name, lower)
        out = self._check(name, lower, folded)
        self._exact.add(name)
        self._ascii.setdefault(lower, name)
        self._fold.setdefault(folded, name)
        self._tree.add(name)
        return out
