"""Single edits of a valid container: its member list and its headers (the mutation catalogue's building blocks).

Each helper returns an ``Apply`` (a valid container and a random source to the bytes of a changed one) or an
``Edit`` of a header's text; :mod:`hsi_conform.testing.mutations` composes them into its catalogue.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import replace

from hsi_conform.header import Header, parse_header
from hsi_conform.members import CUBE_HEADER, envi_names
from hsi_conform.testing.generate import ValidContainer, zip_entries
from hsi_conform.testing.zipcraft import Entry, build

Members = list[tuple[str, bytes]]
Apply = Callable[[ValidContainer, random.Random], bytes]


# -- member-list helpers ---------------------------------------------------------------------------------------

def _members(vc: ValidContainer) -> Members:
    return list(vc.members)


def _swap(members: Members, name: str, content: bytes) -> Members:
    return [(n, content if n == name else c) for n, c in members]


def _drop(members: Members, *names: str) -> Members:
    return [(n, c) for n, c in members if n not in names]


def _rebuilt(fn: Callable[[Members], Members]) -> Apply:
    return lambda vc, rnd: vc.rebuild(fn(_members(vc)))


def _with_entry(name: str, override: Callable[[Entry], Entry]) -> Apply:
    """Rebuild with the entry of ``name`` changed by ``override`` (a zipcraft field edit)."""
    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        entries = [override(e) if e.name == name else e for e in vc.entries()]
        return build(entries)
    return apply


def _added(name: str | bytes, content: bytes = b"x\n", **fields: object) -> Apply:
    """Rebuild with one extra entry (zipcraft fields as given)."""
    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        return build([*vc.entries(), Entry(name, content, **fields)])  # type: ignore[arg-type]
    return apply


def _with_build(**kw: object) -> Apply:
    return lambda vc, rnd: build(vc.entries(), **kw)  # type: ignore[arg-type]


def _prepended(vc: ValidContainer, rnd: random.Random) -> bytes:
    prefix = b"\xff\xd8\xff\xe0 polyglot prefix "
    return build(zip_entries(vc.members, vc.spec.align, len(prefix)), prepend=prefix)


def _deflated(name: str) -> Apply:
    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        plain = vc.member(name)
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = packer.compress(plain) + packer.flush()
        return _with_entry(name, lambda e: replace(e, data=packed, method=8, plain=plain))(vc, rnd)
    return apply


# -- header helpers --------------------------------------------------------------------------------------------

Edit = Callable[[str, Header, ValidContainer], str]


def _header_edit(edit: Edit, member: str = CUBE_HEADER) -> Apply:
    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        text = vc.member(member).decode("utf-8")
        new = edit(text, parse_header(text), vc)
        return vc.rebuild(_swap(_members(vc), member, new.encode("utf-8", "surrogateescape")))
    return apply


def _eol(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _append(line: str) -> Edit:
    def edit(text: str, header: Header, vc: ValidContainer) -> str:
        eol = _eol(text)
        if not text.endswith("\n"):
            text += eol
        return text + line.replace("\n", eol) + eol
    return edit


def _value(key: str, new: Callable[[str, ValidContainer], str]) -> Edit:
    """Replace the value text of ``key`` (appending the entry when the header lacks it)."""
    def edit(text: str, header: Header, vc: ValidContainer) -> str:
        entry = header.get(key)
        if entry is None:
            return _append(f"{key} = {new('', vc)}")(text, header, vc)
        s = entry.value_span
        return text[: s.start] + new(text[s.start : s.end], vc) + text[s.end :]
    return edit


def _key(key: str, new: Callable[[str], str]) -> Edit:
    def edit(text: str, header: Header, vc: ValidContainer) -> str:
        entry = header.get(key)
        assert entry is not None, key
        s = entry.key_span
        return text[: s.start] + new(text[s.start : s.end]) + text[s.end :]
    return edit


def _remove(key: str) -> Edit:
    def edit(text: str, header: Header, vc: ValidContainer) -> str:
        assert header.remove(key) == 1, key
        return header.to_text()
    return edit


def _magic(new_first_line: str) -> Edit:
    return lambda text, header, vc: new_first_line + text[len("ENVI"):]


def _first_line(prefix: str) -> Edit:
    return lambda text, header, vc: prefix + text


def _const(value: str) -> Callable[[str, ValidContainer], str]:
    return lambda old, vc: value


def _before_close(insert: str) -> Callable[[str, ValidContainer], str]:
    return lambda old, vc: old[:-1] + insert + "}"


def _comment_in_list(old: str, vc: ValidContainer) -> str:
    return "{\n; a comment\n" + old[1:]


def _resized(name: str, key: str, delta: int, axis_bytes: Callable[[ValidContainer], int]) -> Apply:
    """Change a dimension of an ENVI pair (header value and data size agree, so only the dimension is wrong)."""
    hdr, dat = envi_names(name)

    def apply(vc: ValidContainer, rnd: random.Random) -> bytes:
        text = vc.member(hdr).decode()
        header = parse_header(text)
        entry = header.get(key)
        assert entry is not None
        s = entry.value_span
        text = text[: s.start] + str(int(entry.value_raw) + delta) + text[s.end :]
        data = vc.member(dat)
        size = len(data) + delta * axis_bytes(vc)
        data = (data * 2)[:size] if size <= 2 * len(data) else data + bytes(size - len(data))
        members = _swap(_swap(_members(vc), hdr, text.encode()), dat, data)
        return vc.rebuild(members)
    return apply


def _item(vc: ValidContainer) -> int:
    return vc.spec.dtype.itemsize


def _line_bytes(vc: ValidContainer) -> int:
    return vc.spec.samples * vc.spec.bands * _item(vc)
