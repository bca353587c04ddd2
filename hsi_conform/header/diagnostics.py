"""The header-syntax decisions the parser reports: one row per decision of spec/header-syntax.md.

This table is the single source of the ``HDR`` rules: :mod:`hsi_conform.rules.syntax` registers one rule per
row (id, name, severities, spec anchor, summary), and the spec's decision list is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hsi_conform.finding import Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - the table reads better with letters


@dataclass(frozen=True, slots=True)
class SyntaxDecision:
    """One decision on the header syntax and the diagnostic that reports a deviation from it.

    Attributes:
        id: the rule id of the diagnostic (``HDR<NNN>``).
        code: the kebab-case diagnostic code, also the rule name and the anchor in spec/header-syntax.md.
        severity: default severity (profile ``exchange``).
        reader: severity under profile ``reader`` (what a tolerant reader can still open).
        summary: one line, shown in the rule catalogue.
        fix: ``"safe"`` or ``"unsafe"`` when ``hsi-conform fix`` repairs the deviation (spec/fix.md), else None.
    """

    id: str
    code: str
    severity: Severity
    reader: Severity
    summary: str
    fix: str | None = None

    @property
    def anchor(self) -> str:
        """The spec anchor of the decision."""
        return f"header-syntax.md#{self.code}"


DIAGNOSTICS: tuple[SyntaxDecision, ...] = (
    SyntaxDecision("HDR001", "not-utf8", E, W, "The header is UTF-8; other bytes are kept but reported."),
    SyntaxDecision("HDR002", "bom", E, W, "The header does not start with a byte order mark.", fix="safe"),
    SyntaxDecision("HDR003", "nul", E, E, "The header contains no NUL character."),
    SyntaxDecision("HDR004", "magic-indented", E, W, "The magic `ENVI` starts in column 1."),
    SyntaxDecision("HDR005", "magic-trailing-text", E, E, "The first line holds nothing but `ENVI`."),
    SyntaxDecision("HDR006", "magic-trailing-blanks", W, I, "No blanks follow `ENVI` on the first line.", fix="safe"),
    SyntaxDecision("HDR007", "line-ending-cr", W, I, "Lines do not end with a bare CR.", fix="safe"),
    SyntaxDecision("HDR008", "line-ending-mixed", W, I, "All lines end the same way.", fix="safe"),
    SyntaxDecision("HDR009", "line-ending-crlf", I, I, "Lines end with LF (CRLF is accepted).", fix="safe"),
    SyntaxDecision("HDR010", "no-final-newline", I, I, "The last line ends with a line break.", fix="safe"),
    SyntaxDecision("HDR011", "line-too-long", E, W, "No physical line is longer than 10,000 bytes."),
    SyntaxDecision("HDR012", "junk-line", E, W, "Every line is `key = value`, a comment or blank."),
    SyntaxDecision("HDR013", "empty-key", E, W, "No entry has an empty key."),
    SyntaxDecision("HDR014", "key-charset", E, W, "Keys hold no braces and no control characters."),
    SyntaxDecision("HDR015", "key-case", E, W, "Keys are written in lower case.", fix="safe"),
    SyntaxDecision("HDR016", "key-blanks", W, I, "Words of a key are separated by one space.", fix="safe"),
    SyntaxDecision("HDR017", "duplicate-key", E, W, "No key appears twice (compared case-insensitively).",
                   fix="unsafe"),
    SyntaxDecision("HDR018", "near-duplicate-key", W, I, "No two keys differ only by `_` versus space."),
    SyntaxDecision("HDR019", "indented-entry", E, W, "Keys start in column 1."),
    SyntaxDecision("HDR020", "separator-spacing", I, I, "Key and value are separated by ` = `.", fix="safe"),
    SyntaxDecision("HDR021", "comment-indented", W, I, "Comment lines start with `;` in column 1."),
    SyntaxDecision("HDR022", "comment-in-list", E, W, "No comment line appears inside braces."),
    SyntaxDecision("HDR023", "text-after-list", E, W, "Nothing follows the closing brace of a list."),
    SyntaxDecision("HDR024", "unclosed-list", E, E, "Every `{` of a value is closed by a `}`."),
    SyntaxDecision("HDR025", "nesting-too-deep", E, E, "Braces nest at most 4 levels deep."),
    SyntaxDecision("HDR026", "trailing-comma", E, W, "A list does not end with a comma.", fix="safe"),
    SyntaxDecision("HDR027", "empty-item", E, W, "No list item is empty."),
    SyntaxDecision("HDR028", "line-break-in-item", W, I, "A line break inside a list follows a comma."),
    SyntaxDecision("HDR029", "brace-in-scalar", E, W, "A scalar value contains no `{` or `}`."),
    SyntaxDecision("HDR030", "semicolon-in-scalar", W, I, "No `;` in a scalar looks like a comment."),
    SyntaxDecision("HDR031", "value-on-next-line", E, W, "A list starts on the line of its key."),
    SyntaxDecision("HDR032", "empty-value", I, I, "Values are not empty (an empty value means unknown)."),
    SyntaxDecision("HDR033", "control-character", W, W, "Values hold no control characters other than tab."),
)

BY_CODE: dict[str, SyntaxDecision] = {d.code: d for d in DIAGNOSTICS}
