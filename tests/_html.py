"""A strict little HTML tree for the tests of the HTML report (standard library only).

Every start tag but a void one must be closed by its own end tag, in order, so a page the tree accepts is
well-formed; text and attribute values are unescaped, so a test sees what a reader sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from hsi_conform.members import CUBE_HEADER
from hsi_conform.testing.samples import sample_members

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr"})

#: Hostile text in a header value that a finding quotes, and in member names.
SCRIPT = "<script>window.pwned=1</script>"
IMG_NAME = 'Metadata/<img src=x onerror="window.pwned=2">.txt'
BIDI_NAME = "Metadata/\u202etxt.exe"


def hostile_members() -> dict[str, bytes]:
    """The sample's members with an upper-case key (HDR015 at line 3), a script as a unit and hostile names."""
    members = sample_members()
    text = members[CUBE_HEADER].decode().replace("samples = ", "Samples = ")
    members[CUBE_HEADER] = (text + f"wavelength units = {SCRIPT}\n").encode()
    members[IMG_NAME] = b"x"
    members[BIDI_NAME] = b"y"
    return members


@dataclass
class Node:
    """An element: its tag, attributes and children (elements and text)."""

    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Node]:
        """Every element below this one (depth first, in document order), filtered by tag and class."""
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    yield child
                yield from child.iter(tag, cls)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return list(self.iter(tag, cls))

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = [n for n in self.iter(tag, cls) if all(n.attrs.get(k) == v for k, v in attrs.items())]
        assert len(found) == 1, (tag, cls, attrs, len(found))
        return found[0]

    def by_id(self, ident: str) -> Node:
        return self.one(id=ident)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}> closes a void element"
        top = self.stack.pop()
        assert top.tag == tag, f"</{tag}> closes <{top.tag}>"

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    """Parse a page into a tree; fails on an unclosed or mismatched element."""
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], f"unclosed: {[n.tag for n in builder.stack[1:]]}"
    return builder.root
