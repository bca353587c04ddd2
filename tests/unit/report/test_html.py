"""The HTML report: self-contained, complete, escaped, bounded (spec/html-report.md).

Pages are rendered from real reports of real containers (a good one, a hostile one, a file that is no ZIP) and
parsed with a strict tree (tests/_html.py); the browser test (tests/integration/test_html_browser.py) opens them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

import hsi_conform
from hsi_conform.errors import ExitCode, MissingDependencyError
from hsi_conform.finding import Finding, Level, Location, Report, Severity
from hsi_conform.members import CUBE_HEADER, THUMBNAIL
from hsi_conform.report import html, render
from hsi_conform.report._inspect import (
    MAX_MEMBER_ROWS,
    MAX_PLOTTED_BANDS,
    MAX_SPECTRUM_VALUES,
    grid_mean,
    inspect_container,
)
from hsi_conform.report.html import excerpt, render_html
from hsi_conform.rules import load_builtin_rules
from hsi_conform.testing.generate import zip_entries
from hsi_conform.testing.samples import sample_members, write_sample_container
from hsi_conform.testing.zipcraft import build
from tests._html import IMG_NAME, SCRIPT, Node, hostile_members, parse
from tests._support import traced_peak, write_tree


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("html")
    hostile = root / "hostile.hsi"
    hostile.write_bytes(build(zip_entries(list(hostile_members().items()), 4096)))
    (root / "notzip.hsi").write_bytes(b"hello")
    return {"good": write_sample_container(root / "good.hsi"), "hostile": hostile, "notzip": root / "notzip.hsi"}


@pytest.fixture(scope="module")
def reports(files: dict[str, Path]) -> list[Report]:
    return [hsi_conform.check(files[name]) for name in ("good", "hostile", "notzip")]


@pytest.fixture(scope="module")
def page(reports: list[Report]) -> str:
    return render("html", reports)


@pytest.fixture(scope="module")
def tree(page: str) -> Node:
    return parse(page)


def urls(tree: Node) -> list[str]:
    return [v for n in tree.iter() for k, v in n.attrs.items() if k in ("src", "href", "action", "data") and v]


def test_the_page_is_self_contained(page: str, tree: Node) -> None:
    assert all(u.startswith(("data:image/", "#")) for u in urls(tree)), urls(tree)
    assert any(u.startswith("data:image/jpeg;base64,") for u in urls(tree))
    assert any(u.startswith("data:image/svg+xml;base64,") for u in urls(tree))
    assert not re.search(r"https?://|url\(|@import|\bsrc=[\"']?//", page.split("<body>", 1)[0] + "".join(
        s.text() for s in tree.all("script")))
    assert not tree.all("link") and not tree.all("iframe") and not tree.all("object")
    assert len(tree.all("script")) == 1 and len(tree.all("style")) == 1


def test_the_policy_allows_exactly_the_inline_style_and_script(tree: Node) -> None:
    (policy,) = [m.attrs["content"] or "" for m in tree.all("meta") if m.attrs.get("http-equiv")]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        digest = hashlib.sha256(tree.one(tag).text().encode()).digest()
        assert directives[directive] == f"'sha256-{base64.b64encode(digest).decode()}'"


def test_each_file_has_its_verdict_and_counts(reports: list[Report], tree: Node) -> None:
    for index, (report, verdict) in enumerate(zip(reports, ("conformant", "nonconformant", "nonconformant"),
                                                  strict=True)):
        section = tree.by_id(f"file-{index}")
        assert verdict in section.classes
        assert section.one("h2").one("span", "verdict").classes == {"verdict", verdict}
        counts = {li.text().split()[1]: int(li.one("span", "n").text()) for li in section.one("ul", "counts").all("li")}
        assert counts == report.counts


def test_findings_are_grouped_by_member_with_excerpt_and_caret(reports: list[Report], tree: Node) -> None:
    section = tree.by_id("file-1")
    groups = {h.text(): h for h in section.all("h4", "member")}
    assert set(groups) == {(member or "the archive").replace("\u202e", "\\u202e") for member in reports[1].by_member()}
    lists = section.all("ol", "findings")
    rules_by_member = {h.text(): [a.text() for a in ol.iter("a", "rule")]
                       for h, ol in zip(section.all("h4", "member"), lists, strict=True)}
    assert rules_by_member[CUBE_HEADER][:1] == ["HDR015"]
    assert "ZIP042" in rules_by_member[IMG_NAME]
    (key_case,) = [li for li in section.iter("li", "finding") if li.one("a", "rule").text() == "HDR015"]
    assert "sev-error" in key_case.classes
    assert key_case.one("span", "where").text() == "line 3:1 [samples]"
    pre = key_case.one("pre", "excerpt")
    assert pre.one("mark").text() == "Samples"
    excerpt_line, caret_line = pre.text().split("\n")
    assert caret_line.index("^") == excerpt_line.index("Samples")
    assert pre.one("span", "caret").text() == "^" + "~" * (len("Samples") - 1)


def test_every_rule_link_leads_to_its_explanation(tree: Node) -> None:
    links = {a.attrs["href"] for a in tree.iter("a", "rule")}
    assert links >= {"#rule-HDR015", "#rule-ZIP042", "#rule-ZIP001", "#rule-FLD011"}
    registry = {r.id: r for r in load_builtin_rules()}
    for link in links:
        article = tree.by_id(str(link)[1:])
        rule = registry[str(link)[len("#rule-"):]]
        assert article.one("h3").text() == f"{rule.id} {rule.name}"
        assert f"spec/{rule.spec}" in article.text()
        assert article.one("blockquote", "spec").text()  # the spec text the anchor starts


def test_hostile_strings_are_escaped_and_inert(page: str, tree: Node) -> None:
    assert SCRIPT not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    (unit,) = [li for li in tree.by_id("file-1").iter("li", "finding") if li.one("a", "rule").text() == "FLD011"]
    assert unit.one("pre", "excerpt").one("mark").text() == SCRIPT  # shown as text, exactly
    member_names = [td.text() for td in tree.by_id("file-1").iter("td", "path")]
    assert IMG_NAME in member_names
    assert "\u202e" not in page and "Metadata/\\u202etxt.exe" in member_names  # a bidi override is shown escaped
    assert all(img.attrs["src"].startswith("data:image/") for img in tree.all("img"))  # type: ignore[union-attr]


def test_several_files_get_a_sortable_summary_table_first(reports: list[Report], tree: Node) -> None:
    summary = tree.by_id("summary")
    main = tree.one("main")
    assert next(n for n in main.children if isinstance(n, Node)) is summary
    table = summary.one("table", "sortable")
    assert [th.text() for th in table.one("thead").all("th")] == ["#", "file", "verdict", "fatal", "error",
                                                                     "warning", "info", "size"]
    rows = table.one("tbody").all("tr")
    assert len(rows) == len(reports)
    assert [row.all("td")[2].text() for row in rows] == ["conformant", "NONCONFORMANT", "NONCONFORMANT"]
    assert [row.one("a").attrs["href"] for row in rows] == ["#file-0", "#file-1", "#file-2"]
    assert [int(row.all("td")[3].attrs["data-sort"] or "") for row in rows] == [r.counts["fatal"] for r in reports]


def test_a_single_file_has_no_summary_table(files: dict[str, Path]) -> None:
    tree = parse(render_html([hsi_conform.check(files["good"])]))
    assert not [n for n in tree.iter() if n.attrs.get("id") == "summary"]
    assert tree.by_id("file-0").one("p", "none").text() == "No findings."


def test_the_member_layout_shows_sizes_offsets_and_alignment(files: dict[str, Path], tree: Node) -> None:
    rows = tree.by_id("file-1").one("table", "members").one("tbody").all("tr")
    cells = {row.all("td")[1].text(): [td.text() for td in row.all("td")] for row in rows}
    view = inspect_container(str(files["hostile"]))
    assert len(rows) == len(view.members) == len(hostile_members())
    for member in view.members:
        _, _, kind, size, offset, aligned, stored = cells[member.name.replace("\u202e", "\\u202e")]
        assert (kind, int(size), int(offset), stored) == (member.kind, member.size, member.offset, "yes")
        assert aligned == ("yes" if member.name.endswith(".envi") else "–")


def test_misaligned_data_is_marked(tmp_path: Path) -> None:
    path = tmp_path / "unaligned.hsi"
    path.write_bytes(build(zip_entries(list(sample_members().items()), 1)))
    tree = parse(render_html([hsi_conform.check(path)]))
    marks = [row for row in tree.one("table", "members").one("tbody").all("tr") if row.all("span", "bad")]
    assert marks and all(row.all("td")[1].text().endswith(".envi") for row in marks)


def test_a_file_that_cannot_be_opened_shows_what_is_known(tree: Node) -> None:
    section = tree.by_id("file-2")
    assert "not a readable ZIP archive" in section.one("p", "note").text()
    assert [a.text() for a in section.iter("a", "rule")] == ["ZIP001"]
    assert [h.text() for h in section.all("h4", "member")] == ["the archive"]


def test_an_unreadable_input_has_its_verdict_and_reason() -> None:
    tree = parse(render_html([Report.unreadable("gone.hsi", "No such file"), Report(path="x.hsi")]))
    section = tree.by_id("file-0")
    assert "unreadable" in section.classes and "No such file" in section.one("p", "error").text()
    assert tree.by_id("summary").one("tbody").all("tr")[0].all("td")[2].text() == "UNREADABLE"


def test_an_expanded_folder_has_members_without_offsets(tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "scene", dict(sample_members()))
    tree = parse(render_html([hsi_conform.check(folder)]))
    rows = tree.one("table", "members").one("tbody").all("tr")
    assert {row.all("td")[1].text() for row in rows} >= set(sample_members())
    assert {row.all("td")[4].text() for row in rows} == {"–"}


@pytest.mark.parametrize("thumbnail", [b"not a jpeg", b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03" + bytes(64)],
                         ids=["garbage", "huge-claim"])
def test_a_bad_thumbnail_gets_a_note_not_an_image(tmp_path: Path, thumbnail: bytes) -> None:
    members = sample_members()
    members[THUMBNAIL] = thumbnail
    path = tmp_path / "t.hsi"
    path.write_bytes(build(zip_entries(list(members.items()), 4096)))
    view = inspect_container(str(path))
    assert view.thumbnail is None and view.thumbnail_note
    assert len(view.spectra) == 3  # the rest is still shown


def test_the_thumbnail_is_reencoded_small(tmp_path: Path) -> None:
    from PIL import Image

    members = sample_members()
    big = io.BytesIO()
    Image.new("RGB", (2000, 1000), (200, 30, 30)).save(big, format="JPEG")
    members[THUMBNAIL] = big.getvalue()
    path = tmp_path / "t.hsi"
    path.write_bytes(build(zip_entries(list(members.items()), 4096)))
    uri = inspect_container(str(path)).thumbnail
    assert uri is not None and uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as shown:
        assert shown.size == (256, 128)


def test_the_mean_spectra_are_those_of_the_data(files: dict[str, Path]) -> None:
    view = inspect_container(str(files["good"]))
    cube, white, black = view.spectra
    with hsi_conform.open(files["good"]) as container:
        expected = np.asarray(container.bip(), dtype=np.float64).mean(axis=(0, 1))
    np.testing.assert_allclose(cube.means, expected)
    assert (cube.label, white.label, black.label) == ("cube", "white reference", "black reference")
    np.testing.assert_allclose(white.means, 4000.0)
    np.testing.assert_allclose(black.means, 100.0)
    assert cube.pixels == 16 * 12 and list(cube.bands) == list(range(1, 11))


def test_a_mean_spectrum_reads_a_bounded_grid_of_any_cube() -> None:
    # A "cube" of 4 * 10^12 values that occupies no memory: every value is its band number.
    bands = 5000
    image = np.broadcast_to(np.arange(bands, dtype=np.float32), (40_000, 20_000, bands))
    result: list[tuple[np.ndarray, int, int]] = []
    peak = traced_peak(lambda: result.append(grid_mean(image)))
    means, pixels, step = result[0]
    assert step == 3 and len(means) <= MAX_PLOTTED_BANDS and pixels * len(means) <= MAX_SPECTRUM_VALUES
    np.testing.assert_array_equal(means, np.arange(0, bands, step))
    assert peak < 5 * 8 * MAX_SPECTRUM_VALUES


def test_non_finite_values_are_left_out_of_the_mean() -> None:
    image = np.array([[[1.0, np.nan], [3.0, np.inf]]])  # 1 line, 2 samples, 2 bands
    means, pixels, _ = grid_mean(image)
    assert pixels == 2 and means[0] == 2.0 and np.isnan(means[1])


def test_excerpt_windows_long_lines_and_keeps_tabs_under_the_caret() -> None:
    long = excerpt(Location(line=1, column=500_001, end_column=500_004, excerpt="a" * 500_000 + "XYZ" + "b" * 9))
    assert long is not None and long.marked == "XYZ" and long.caret == "^~~"
    assert long.cut_left and not long.cut_right and len(long.before + long.marked + long.after) <= 160
    tabs = excerpt(Location(line=2, column=3, excerpt="\t\tx = 1\n"))
    assert tabs is not None and (tabs.pad, tabs.marked, tabs.after) == ("\t\t", "x", " = 1")
    past = excerpt(Location(line=3, column=40, excerpt="short"))
    assert past is not None and (past.before, past.marked, past.caret) == ("short", "", "^")
    cut = excerpt(Location(line=4, column=5, excerpt="bcdef", excerpt_start=3))
    assert cut is not None and cut.cut_left and (cut.before, cut.marked) == ("bc", "d")


def test_findings_beyond_the_limit_are_counted_not_listed() -> None:
    many = tuple(Finding(rule="HDR015", name="hdr-key-case", severity=Severity.INFO if i else Severity.FATAL,
                         level=Level.SYNTAX, spec="header-syntax.md#key-case", message=f"m{i}",
                         location=Location(member=CUBE_HEADER, line=i + 1)) for i in range(html.MAX_FINDINGS_SHOWN + 7))
    tree = parse(render_html([Report(path="nowhere.hsi", findings=many)]))
    shown = tree.by_id("file-0").all("li", "finding")
    assert len(shown) == html.MAX_FINDINGS_SHOWN
    assert "sev-fatal" in shown[0].classes  # the most relevant are kept
    assert tree.by_id("file-0").all("p", "note")[-1].text().startswith("7 ")


def test_member_rows_are_bounded(tmp_path: Path) -> None:
    members = sample_members()
    members.update({f"Metadata/{i}.txt": b"" for i in range(MAX_MEMBER_ROWS + 20)})
    path = tmp_path / "many.hsi"
    path.write_bytes(build(zip_entries(list(members.items()), 4096)))
    view = inspect_container(str(path))
    assert len(view.members) == MAX_MEMBER_ROWS and view.more_members == len(members) - MAX_MEMBER_ROWS


def test_long_names_are_shortened(tmp_path: Path) -> None:
    members = sample_members()
    name = "Metadata/" + "n" * 60_000
    members[name] = b""
    path = tmp_path / "long.hsi"
    path.write_bytes(build(zip_entries(list(members.items()), 4096)))
    report = hsi_conform.check(path)
    page = render_html([report])
    assert "n" * html.TEXT_WIDTH not in page and "Metadata/" + "n" * 200 in page
    assert len(page) < 200_000


def test_a_large_batch_shows_failing_files_in_full_and_stays_bounded(files: dict[str, Path],
                                                                     reports: list[Report]) -> None:
    good, hostile = reports[0], reports[1]
    batch = [hostile if i % 10 == 3 else good for i in range(300)]  # 30 failing files
    full = 4
    page = render_html(batch, rules=load_builtin_rules(), full_sections=full)
    tree = parse(page)
    assert len(tree.by_id("summary").one("tbody").all("tr")) == 300
    sections = tree.all("section", "file")
    assert [s.attrs["id"] for s in sections] == [f"file-{i}" for i in (3, 13, 23, 33)]
    assert tree.by_id("omitted").text().startswith("26 more nonconformant")
    one = len(render_html([hostile], rules=load_builtin_rules()))
    # The bound of spec/html-report.md#size: the page of one file per full section, plus a summary row per file.
    assert len(page) < full * one + 300 * html.SUMMARY_ROW_BYTES


def test_small_batches_show_every_file_in_full(reports: list[Report]) -> None:
    tree = parse(render_html(reports, full_sections=3))
    assert len(tree.all("section", "file")) == 3
    assert not [n for n in tree.iter() if n.attrs.get("id") == "omitted"]


def test_the_page_is_deterministic(reports: list[Report], page: str) -> None:
    assert render("html", reports) == page


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, files: dict[str, Path],
                                               tmp_path: Path, cli: object) -> None:
    monkeypatch.setattr(html, "_REQUIRES", (*html._REQUIRES, "hsi_conform_no_such_module"))
    with pytest.raises(MissingDependencyError) as caught:
        render("html", [Report(path="a.hsi")])
    assert caught.value.extra == "report" and caught.value.exit_code is ExitCode.UNREADABLE
    assert "pip install 'hsi-conform[report]'" in str(caught.value)
    out = tmp_path / "r.html"
    result = cli(["validate", "--format", "html", "-o", out, files["good"]])  # type: ignore[operator]
    assert result.code == ExitCode.UNREADABLE and not out.exists()


def test_waived_and_baselined_findings_are_marked(reports: list[Report]) -> None:
    import dataclasses
    from datetime import date

    from hsi_conform.finding import BaselineState, Suppression

    report = next(r for r in reports if r.findings)
    first, *rest = report.findings
    waived = dataclasses.replace(first, suppression=Suppression(justification="agreed <b>with</b> X",
                                                                expires=date(2027, 6, 30)))
    kept = [dataclasses.replace(f, baseline_state=BaselineState.UNCHANGED) for f in rest[:1]]
    page = render("html", [dataclasses.replace(report, findings=(waived, *kept, *rest[1:]))])
    assert "waived until 2027-06-30: agreed &lt;b&gt;with&lt;/b&gt; X" in page
    assert "state-suppressed" in page
    if kept:
        assert "state-baseline-unchanged" in page and "in the baseline" in page
