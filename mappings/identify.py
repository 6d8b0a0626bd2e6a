"""Identify a document's template and its tables: number, title, page span, empty forms.

Input: per page, the text lines and the cell grids the extractors found.  Output: one
:class:`TableInstance` per printed table (a table continued over pages is one instance).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from budget_disclosures.extractors.base import RawGrid, TextLine

from .models import TableRule, Template, normalise_title
from .text import clean_label, find_money_unit

_CATALOGUE_HEADERS = ("报表名称", "是否空表")
_PAGE_FOOTER = re.compile(r"^第\s*\d+\s*页")


@dataclass(slots=True)
class PageTables:
    """What identification needs of one page."""

    number: int
    lines: list[TextLine]
    grids: list[RawGrid]


@dataclass(slots=True)
class TableInstance:
    table_no: str
    title: str
    rule: TableRule | None
    number_printed: str | None = None  # 表一 → 一, 公开01表 → 01 (table_no may normalise it)
    grids: list[RawGrid] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    unit: str | None = None
    is_empty: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.rule.kind if self.rule else "unknown"

    @property
    def page_first(self) -> int:
        return min(self.pages) if self.pages else 0

    @property
    def page_last(self) -> int:
        return max(self.pages) if self.pages else 0


_DERIVED: dict[tuple[str, int], tuple[Template, object]] = {}


def _derived(template: Template, build):
    """``build(template)``, once per template object: the title indexes are asked for on
    every heading line (templates are frozen and live as long as the loader's cache)."""
    key = (build.__name__, id(template))
    cached = _DERIVED.get(key)
    if cached is None or cached[0] is not template:
        cached = _DERIVED[key] = (template, build(template))
    return cached[1]


def _build_title_index(template: Template) -> dict[str, TableRule]:
    return {title: rule for rule in template.tables for title in rule.titles}


def _title_index(template: Template) -> dict[str, TableRule]:
    return _derived(template, _build_title_index)


_UNIT_TAIL = re.compile(r"(?:金额)?单位[:：].*$")
_QUALIFIER_TAIL = re.compile(r"\([^()]{1,16}\)$")
_LEXICON_PREFIX_MAX = 40  # a year, a unit's full name, 部门/单位, a number before the title


_QUALIFIERS = (
    (re.compile(r"\((?:按)?(?:支出)?功能(?:分类)?(?:科目)?\)"), "#功能"),
    (re.compile(r"\((?:按)?(?:支出)?(?:部门)?(?:预算)?经济(?:分类)?(?:科目)?\)"), "#经济"),
    (re.compile(r"\([^()]{1,16}\)"), ""),
)
# words provinces add or drop without changing the table (预算, 决算, 情况, 明细, 总体, 部门 …),
# and the 财政拨款 every 一般公共预算 / 政府性基金 / 国有资本经营 table is made of
_FILLERS = re.compile(r"预算|决算|情况|明细|总体|部门|单位|本年|年度|总(?=表)")
_FUND_GRANT = re.compile(r"(一般公共|政府性基金|国有资本经营)(?:财政)?拨款")


def canonical_title(text: str) -> str:
    """A title reduced to what tells kinds apart: ``政府性基金预算支出预算表`` and
    ``政府性基金预算支出情况表`` both become ``政府性基金支出表``; a qualifier becomes a
    marker (``#功能`` / ``#经济``)."""
    norm = _UNIT_TAIL.sub("", normalise_title(text))
    for pattern, marker in _QUALIFIERS:
        norm = pattern.sub(marker, norm)
    norm = norm.replace("收入支出", "收支")
    norm = _FILLERS.sub("", norm)
    return _FUND_GRANT.sub(r"\1", norm)


def _canonical_index(template: Template) -> tuple[tuple[str, TableRule], ...]:
    """(canonical title, rule), longest first; a title two kinds reduce to alike is dropped
    (it cannot tell them apart)."""
    return _derived(template, _build_canonical_index)


def _build_title_endings(template: Template) -> frozenset[str]:
    return frozenset(title[-1] for title in _title_index(template))


def _build_canonical_index(template: Template) -> tuple[tuple[str, TableRule], ...]:
    owners: dict[str, set[str]] = {}
    rules: dict[str, TableRule] = {}
    for title, rule in _title_index(template).items():
        canon = canonical_title(title)
        owners.setdefault(canon, set()).add(rule.kind)
        rules.setdefault(canon, rule)
    kept = [(canon, rules[canon]) for canon, kinds in owners.items() if len(kinds) == 1]
    return tuple(sorted(kept, key=lambda pair: len(pair[0]), reverse=True))


def _match_canonical(canon: str, template: Template) -> TableRule | None:
    """The kind whose canonical title a line's canonical form ends with (longest first);
    a qualifier no title of the kind carries is ignored (``支出总表（按功能科目）``)."""
    for candidate in (canon, re.sub(r"#(?:功能|经济)$", "", canon)):
        if len(candidate) < 3 or not re.search(r"表(?:#功能|#经济)?$", candidate):
            continue
        for title, rule in _canonical_index(template):
            if candidate.endswith(title) and len(candidate) - len(title) <= _LEXICON_PREFIX_MAX:
                return rule
    return None


_DAMAGED_MIN_RATIO = 0.85


def _tail_ratio(text: str, title: str) -> float:
    """How close the end of a line is to a title (two characters of slack for a damaged one)."""
    return difflib.SequenceMatcher(None, text[-(len(title) + 2) :], title).ratio()


def _looks_like_a_damaged_longer_title(canon: str, found: TableRule, template: Template) -> bool:
    """``一般公共预1基本支出表`` ends with 基本支出表 (another kind) but is 一般公共预算基本支出表
    with one character misread: when a longer title of another kind is that close to the
    line's end, the short match is not trusted (the damaged-title reader, which also weighs
    the header words, decides)."""
    found_length = max(
        (len(title) for title, rule in _canonical_index(template) if rule is found), default=0
    )
    for title, rule in _canonical_index(template):
        if rule.kind == found.kind or len(title) <= found_length + 1:
            continue
        if _tail_ratio(canon, title) >= _DAMAGED_MIN_RATIO:
            return True
    return False


def match_lexicon_title(text: str, template: Template) -> TableRule | None:
    """The lexicon kind a line titles: the line ends with a known title (longest wins).

    Any province prefixes its titles (``2026年广州市统计局``, ``预算01表``, ``公开表3``), words
    them a little differently (预算 / 情况 / 决算 / 部门 added or left out: compared in their
    :func:`canonical_title` form first) and may qualify them (``(按功能分类科目)``) or print the
    unit on the same line; the title itself ends the line, so a narrative sentence or a row
    label that merely mentions a table (``一般公共预算支出``, ``收支总表情况说明``) is not one.
    """
    norm = _UNIT_TAIL.sub("", normalise_title(text))
    if len(norm) < 3 or len(norm) > _LEXICON_PREFIX_MAX + 30:
        return None
    # a canonical title ends with 表, which canonical_title() never adds: most lines (row
    # labels, figures) skip its regular expressions
    if "表" in norm:
        canon = canonical_title(text)
        canonical = _match_canonical(canon, template)
        if canonical is not None:
            damaged = _looks_like_a_damaged_longer_title(canon, canonical, template)
            return None if damaged else canonical
    if not norm.endswith(")") and norm[-1] not in _derived(template, _build_title_endings):
        return None  # no title ends the way this line does (and no qualifier to strip)
    bare = _QUALIFIER_TAIL.sub("", norm)
    best: tuple[str, TableRule] | None = None
    for title, rule in _title_index(template).items():
        if not (norm.endswith(title) or bare.endswith(title)):
            continue
        if len(norm) - len(title) > _LEXICON_PREFIX_MAX:
            continue
        if best is None or len(title) > len(best[0]):
            best = (title, rule)
    return best[1] if best else None


_FUZZY_MIN_RATIO = 0.8  # OCR drops or swaps a character or two in a 10-30 character title
_TITLE_LINE = re.compile(r"表(?:\([^()]{1,16}\))?$")


def fuzzy_lexicon_title(
    lines: list[TextLine], grid: RawGrid, template: Template
) -> tuple[TableRule, str] | None:
    """The lexicon kind of a title that OCR damaged (``一般公共预1基本支出表``).

    A heading line ending like a title (…表, …表(…)) that matches no title exactly is
    compared with every known title (similarity of its tail); among the close ones, the
    kinds whose header words the grid contradicts (``header_excludes``) or lacks
    (``header_requires``) are dropped, and the closest remaining title wins.
    """
    header = (
        "".join(cell.text for row in grid.rows[:4] for cell in row)
        .replace("\n", "")
        .replace(" ", "")
    )
    best: tuple[float, TableRule, str] | None = None
    for line in lines:
        norm = _UNIT_TAIL.sub("", normalise_title(line.text))
        if not _TITLE_LINE.search(norm) or len(norm) < 5:
            continue
        for title, rule in _title_index(template).items():
            ratio = _tail_ratio(norm, title)
            if ratio < _FUZZY_MIN_RATIO or not _header_fits(rule, header):
                continue
            if best is None or ratio > best[0]:
                best = (ratio, rule, clean_label(line.text))
    return (best[1], best[2]) if best else None


def _header_fits(rule: TableRule, header: str) -> bool:
    if rule.header_excludes and any(word in header for word in rule.header_excludes):
        return False
    return not rule.header_requires or any(word in header for word in rule.header_requires)


_MEMO_LIMIT = 50_000  # distinct lines remembered per template and question


def _memo_match_title(template: Template) -> dict[str, TableRule | None]:
    return {}


def _memo_number_of(template: Template) -> dict[str, str | None]:
    return {}


def _remembered(memo: dict, text: str, answer) -> object:
    """Ask once per distinct line: every row of every grid is asked whether it is a heading
    (a fifth of a document's work before this memo), and the same lines recur on each page."""
    if text in memo:
        return memo[text]
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[text] = value = answer()
    return value


def match_title(text: str, template: Template) -> TableRule | None:
    """The table rule whose title the line prints (exact, else the longest contained title)."""
    memo = _derived(template, _memo_match_title)
    return _remembered(memo, text, lambda: _match_title(text, template))  # type: ignore[return-value]


def _match_title(text: str, template: Template) -> TableRule | None:
    if template.numbering == "printed":
        return match_lexicon_title(text, template)
    norm = normalise_title(text)
    if len(norm) < 3:
        return None
    index = _title_index(template)
    if norm in index:
        return index[norm]
    best = None
    for title, rule in index.items():
        # a short prefix or suffix (number, year, unit) around the title; a line that ends
        # with the title may carry a longer prefix ("一、2017年度江苏省…法院部门收支预算总表")
        contained = (
            len(title) >= 4
            and title in norm
            and (
                len(norm) <= len(title) + 12
                or (norm.endswith(title) and len(norm) <= len(title) + 30)
            )
        )
        # a narrative heading about the table ("一、收支预算总表情况说明") is not its title
        contained = contained and "说明" not in norm[norm.index(title) + len(title) :]
        if contained and (best is None or len(title) > len(best[0])):
            best = (title, rule)
    return best[1] if best else None


def detect_template(pages: list[PageTables], templates: tuple[Template, ...]) -> Template | None:
    """The template whose table titles the document prints most often (exact title lines)."""
    lines = {normalise_title(line.text) for page in pages for line in page.lines}
    best: tuple[int, int, Template] | None = None
    for template in templates:
        hits = sum(1 for rule in template.tables if any(t in lines for t in rule.titles))
        phrase_hits = sum(1 for p in template.detect.phrases if any(p in line for line in lines))
        if hits == 0 and phrase_hits < template.detect.min_hits:
            continue
        score = (hits, phrase_hits, template)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best else None


Reading = tuple[Template | None, list[TableInstance], dict[str, bool]]


def template_evidence(tables: list[TableInstance]) -> int:
    """How many of a template's tables the document prints (distinct rules whose title it
    reads): two printed tables read as one rule (一般公共预算支出表（按功能分类） and
    （按经济分类） both as a family's 一般公共预算支出表) count once."""
    return len({id(table.rule) for table in tables if table.rule is not None})


def choose_template(
    pages: list[PageTables], families: tuple[Template, ...], generic: Template | None
) -> Reading:
    """(template, tables, catalogue): the family template when the document shows it at least
    as well as the generic lexicon reads it (a refinement chosen on evidence), else the
    generic reading — with the tables that template identified, read once.

    A family is never a default: its titles must be printed (``detect_template``), and it
    must read as many distinct tables as the lexicon does.
    """
    family = detect_template(pages, families) if families else None
    if generic is None or family is None:
        chosen = family or generic
        return (chosen, *identify_tables(pages, chosen))
    by_family, by_generic = identify_tables(pages, family), identify_tables(pages, generic)
    if template_evidence(by_family[0]) >= template_evidence(by_generic[0]):
        return (family, *by_family)
    return (generic, *by_generic)


def printed_number(line: str, template: Template) -> str | None:
    """The table number a heading line prints (``表十二`` → ``十二``), as printed."""
    match = template.number_regex.match(clean_label(line).replace(" ", ""))
    if match is None:
        return None
    return next((group for group in match.groups() if group), None)


def table_number(printed: str, template: Template) -> str:
    """The table_no of a printed number: the template's number style, else as printed.

    A number the style cannot read (``十十``) stays as printed: visible in the output, never
    guessed, and one odd heading line does not fail the document.
    """
    if template.number_style is None:
        return printed
    try:
        return template.number_style.table_no(printed)
    except ValueError:
        return printed


def _number_of(line: str, template: Template) -> str | None:
    """The table_no a heading or catalogue line gives, normalised, so that both compare."""
    memo = _derived(template, _memo_number_of)
    return _remembered(memo, line, lambda: _read_number_of(line, template))  # type: ignore[return-value]


def _read_number_of(line: str, template: Template) -> str | None:
    printed = printed_number(line, template)
    return table_number(printed, template) if printed is not None else None


def printed_heading(
    pages: list[PageTables], template: Template, table_no: str
) -> tuple[int | None, str | None, TableRule | None, str]:
    """(page, number as printed, rule, title) of a table printed as a heading with no grid
    (an empty form the catalogue declares): a family's rule by its number; on the generic
    path, the title printed on the number's line or on the lines just after it, on the last
    page printing the number (a catalogue or 目录 before the tables lists it too)."""
    order = pages if template.numbering == "rules" else list(reversed(pages))
    for page in order:
        for index, line in enumerate(page.lines):
            number = printed_number(line.text, template)
            if number is None or table_number(number, template) != table_no:
                continue
            if template.numbering == "rules":
                return page.number, number, template.table(table_no), ""
            for candidate in page.lines[index : index + 3]:
                rule = match_title(candidate.text, template)
                if rule is not None:
                    title = clean_label(candidate.text)
                    if (match := template.number_regex.match(title.replace(" ", ""))) is not None:
                        title = title.replace(" ", "")[match.end() :] or title
                    return page.number, number, rule, title
            return page.number, number, None, ""
    rule = template.table(table_no) if template.numbering == "rules" else None
    return None, None, rule, ""


def _is_catalogue(grid: RawGrid) -> bool:
    head = "".join(cell.text for row in grid.rows[:2] for cell in row)
    return all(token in head.replace("\n", "") for token in _CATALOGUE_HEADERS)


def read_catalogue(grid: RawGrid, template: Template) -> dict[str, bool]:
    """表N → published as an empty form, from the catalogue's 是否空表 column."""
    empty: dict[str, bool] = {}
    for index in range(len(grid.rows)):
        texts = [clean_label(t) for t in grid.row_texts(index)]
        number = next((_number_of(t, template) for t in texts if _number_of(t, template)), None)
        if number is None:
            continue
        empty[number] = any(t == "是" for t in texts)
    return empty


def identify_tables(
    pages: list[PageTables], template: Template | None
) -> tuple[list[TableInstance], dict[str, bool]]:
    """Group grids into tables using the "表N" line and the title printed above each grid.

    A grid with no number or title above continues the table before it (tables that cross
    pages, with or without repeated headers), and so does a grid headed by the same number or
    title as the table before it (headings repeated on each page); a title left at the foot of
    a page with no grid under it is carried to the next page's first grid (title on one page,
    body on the next). A heading printed inside the ruled area cuts the grid there (see
    :func:`split_at_headings`). Grids without any text (ruled frames, stamp boxes) or with a
    single column (framed paragraphs, a 目录 box) are skipped; such a box holding only a
    title heads the next grid.
    """
    tables: list[TableInstance] = []
    catalogue: dict[str, bool] = {}
    current: TableInstance | None = None
    pending: list[TextLine] = []
    for page in pages:
        for whole in page.grids:
            if whole.n_cols < 2 or not any(cell.text.strip() for row in whole.rows for cell in row):
                # a ruled box with no text (frame, stamp box) or one column (a framed paragraph)
                # is not a table; a box holding only a table's title heads the next grid
                boxed = [line for line in page.lines if _inside(line, whole.bbox)]
                if (
                    template is not None
                    and boxed
                    and all(
                        _number_of(line.text, template)
                        or match_title(line.text, template)
                        or find_money_unit(line.text)
                        for line in boxed
                    )
                ):
                    # the number printed above the box (表9 over a boxed title) heads it too
                    numbers = [ln for ln in whole.lines_above if _number_of(ln.text, template)]
                    pending = numbers + boxed
                continue
            if template is not None and _is_catalogue(whole):
                catalogue.update(read_catalogue(whole, template))
                current = None
                pending = []
                continue
            pieces = (
                split_at_headings(whole, page.lines, template)
                if template is not None
                else [(whole, [])]
            )
            for index, (grid, heading) in enumerate(pieces):
                above = (pending + whole.lines_above if index == 0 else []) + heading
                pending = []
                if grid is None:
                    pending = above  # a heading with no rows under it: it heads the next grid
                    continue
                number, printed, rule, title = _read_heading(above, template)
                if rule is None and template is not None and template.numbering == "printed":
                    rule, title = fuzzy_lexicon_title(above, grid, template) or (None, title)
                if number is None and rule is None:
                    if current is not None and _continues(current, grid, template):
                        current.grids.append(grid)
                        if grid.page not in current.pages:
                            current.pages.append(grid.page)
                    continue
                if rule is None and template is not None and number is not None:
                    rule = template.table(number)
                table_no = _new_table_no(number, rule, template, tables)
                if (
                    current is not None
                    and rule is not None
                    and current.rule is rule
                    and (number is None or number == current.table_no)
                ):
                    # the same number/title printed again on the next grid: one table, continued
                    current.grids.append(grid)
                    if grid.page not in current.pages:
                        current.pages.append(grid.page)
                    continue
                current = TableInstance(
                    table_no=table_no,
                    title=title,
                    rule=rule,
                    number_printed=printed,
                    grids=[grid],
                    pages=[grid.page],
                )
                current.unit = next(
                    (u for u in (find_money_unit(line.text) for line in above) if u), None
                )
                tables.append(current)
        last_bottom = max((g.bbox[3] for g in page.grids), default=0.0)
        # a heading left in the last grid's last rows, then the lines under the last grid
        pending = (pending if page.grids else []) + [
            line
            for line in page.lines
            if line.top > last_bottom and not _PAGE_FOOTER.match(line.text.replace(" ", ""))
        ]
        if template is None or not any(
            _number_of(line.text, template) or match_title(line.text, template) for line in pending
        ):
            pending = []
    _mark_empty(tables, catalogue)
    return tables, catalogue


def _continues(current: TableInstance, grid: RawGrid, template: Template | None) -> bool:
    """A grid with no heading continues the table before it. On the generic path only when
    it is on the same page or the next one: a table breaks across consecutive pages, while
    an untitled grid after pages of narrative (a 绩效目标 list in the explanation) is another
    table. (Its columns may differ: a continuation page can drop an empty edge column.)"""
    if template is None or template.numbering != "printed" or not current.grids:
        return True
    return grid.page - current.grids[-1].page <= 1


def _new_table_no(
    number: str | None,
    rule: TableRule | None,
    template: Template | None,
    tables: list[TableInstance],
) -> str:
    """The printed number; else the rule's table_no (a family's fixed order); else the table's
    order in the document. On the generic path a number already taken gets a suffix (``3``
    → ``3b``), so that two tables never share a table_no."""
    if number is None and rule is not None and template is not None:
        number = None if template.numbering == "printed" else rule.table_no
    table_no = number or str(len(tables) + 1)
    if template is None or template.numbering != "printed":
        return table_no  # a family's numbers are its own (kept as before)
    taken = {table.table_no for table in tables}
    suffix = iter("bcdefghijklmnopqrstuvwxyz")
    candidate = table_no
    while candidate in taken:
        candidate = table_no + next(suffix)
    return candidate


def _inside(line: TextLine, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return top <= (line.top + line.bottom) / 2 <= bottom and x0 <= (line.x0 + line.x1) / 2 <= x1


def _row_span(grid: RawGrid, index: int) -> tuple[float, float]:
    top = min(cell.top for cell in grid.rows[index])
    bottom = (
        min(cell.top for cell in grid.rows[index + 1])
        if index + 1 < len(grid.rows)
        else grid.bbox[3]
    )
    return top, bottom


def _lines_in_row(grid: RawGrid, index: int, lines: list[TextLine]) -> list[TextLine]:
    top, bottom = _row_span(grid, index)
    x0, _, x1, _ = grid.bbox
    return [
        line
        for line in lines
        if top <= (line.top + line.bottom) / 2 < bottom and line.x1 > x0 and line.x0 < x1
    ]


def _row_kind(grid: RawGrid, index: int, lines: list[TextLine], template: Template) -> str:
    """``title`` (a table number or title), ``unit`` (单位：万元), ``blank`` or ``other``."""
    row_lines = _lines_in_row(grid, index, lines)  # text of cells spanning down sits lower
    if not row_lines:
        return "blank"
    if any(
        _number_of(line.text, template) or match_title(line.text, template) for line in row_lines
    ):
        return "title"
    ordered = sorted(row_lines, key=lambda line: (line.top, line.x0))
    if match_title("".join(line.text for line in ordered), template):  # a title cut into pieces
        return "title"
    if find_money_unit("".join(line.text for line in row_lines)):
        return "unit"
    return "other"


def _piece(grid: RawGrid, start: int, end: int) -> RawGrid:
    top = min(cell.top for cell in grid.rows[start])
    bottom = min(cell.top for cell in grid.rows[end]) if end < len(grid.rows) else grid.bbox[3]
    return RawGrid(
        page=grid.page,
        bbox=(grid.bbox[0], top, grid.bbox[2], bottom),
        col_bounds=grid.col_bounds,
        rows=grid.rows[start:end],
        method=grid.method,
        lines_above=list(grid.lines_above) if start == 0 else [],
    )


def split_at_headings(
    grid: RawGrid, lines: list[TextLine], template: Template
) -> list[tuple[RawGrid | None, list[TextLine]]]:
    """Cut a grid where a heading is printed inside the ruled area.

    Spreadsheets exported with gridlines rule the title rows too (title, 编制单位 / 单位：万元
    lines, blank rows), and a sheet printed across pages may run one table into the next in
    one ruled area. A run of rows holding only a table number or title, unit statements and
    blank rows (at least one title, or a unit statement at the very top) is a heading: its
    text lines head the rows below it, which start a new piece. Returns (piece, heading lines)
    pairs, the first piece headed by nothing when the grid does not start with a heading, and
    a last piece ``None`` when the grid ends with a heading (carried to the next grid).
    """
    kinds = [_row_kind(grid, i, lines, template) for i in range(len(grid.rows))]
    blocks: list[tuple[int, int]] = []
    index = 0
    while index < len(kinds):
        if kinds[index] == "other":
            index += 1
            continue
        end = index
        while end < len(kinds) and kinds[end] != "other":
            end += 1
        run = kinds[index:end]
        if "title" in run or (index == 0 and "unit" in run and end < len(kinds)):
            blocks.append((index, end))
        index = end
    if not blocks:
        return [(grid, [])]
    pieces: list[tuple[RawGrid, list[TextLine]]] = []
    if blocks[0][0] > 0:
        pieces.append((_piece(grid, 0, blocks[0][0]), []))
    for number, (start, end) in enumerate(blocks):
        stop = blocks[number + 1][0] if number + 1 < len(blocks) else len(grid.rows)
        heading = [line for i in range(start, end) for line in _lines_in_row(grid, i, lines)]
        # a heading in the grid's last rows heads the next grid (its body on the next page)
        pieces.append((_piece(grid, end, stop) if end < stop else None, heading))
    return pieces


def _read_heading(
    lines: list[TextLine], template: Template | None
) -> tuple[str | None, str | None, TableRule | None, str]:
    """(table_no, number as printed, rule, title) from the lines heading a grid."""
    number = printed = None
    rule = None
    title = ""
    for line in lines:
        text = line.text.strip()
        if template is None:
            continue
        found = printed_number(text, template)
        if found:
            # the line may go on with the title ("公开03表：支出预算总表")
            number, printed = table_number(found, template), found
        matched = match_title(text, template)
        if matched:
            rule, title = matched, clean_label(text)
    if rule is None and template is not None:  # a long title wrapped onto the next line(s)
        for size in (2, 3):
            for start in range(len(lines) - size + 1):
                joined = "".join(line.text.strip() for line in lines[start : start + size])
                matched = match_title(joined, template)
                if matched and rule is None:
                    rule, title = matched, clean_label(joined)
    return number, printed, rule, title


def _mark_empty(tables: list[TableInstance], catalogue: dict[str, bool]) -> None:
    for table in tables:
        if catalogue.get(table.table_no):
            table.is_empty = True
