"""Turn identified tables (cell grids) into the contract's ``line_items`` rows.

Columns are matched by header *meaning* (vocabulary rules over the header path), never by
position; each layout (``coded_rows``, ``side_by_side``, ...) is a small function, and what
varies by template is data in ``mappings/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields

from budget_disclosures.extractors.base import RawGrid

from .codelists import code_for_name, code_level, parent_code
from .identify import TableInstance
from .loader import vocabulary
from .models import CodedBlock, ColumnRule, ItemRule, Template, Vocabulary
from .text import (
    clean_label,
    clean_name,
    fold_width,
    is_code,
    parse_amount,
    split_code_name,
    to_yuan,
)

LABEL_ROLES = frozenset(
    {
        "seq",
        "code",
        "name",
        "alt_code",
        "alt_name",
        "code_name",
        "code_lei",
        "code_kuan",
        "code_xiang",
        "label_econ_dept",
        "label_econ_gov",
        "unit_label",
    }
)
_DECIMAL = re.compile(r"^[+-]?[\d,]+\.\d+$|^\(?[\d,]+(\.\d+)?\)?$")
_YEAR = re.compile(r"(20\d{2})\s*年")
_UNIT_CODE = re.compile(r"^\d{3,15}$")


@dataclass(slots=True)
class LineItem:
    doc_id: str
    fiscal_year: int | None
    table_no: str
    kind: str
    classification: str
    code: str | None
    name: str
    level: int | None
    parent_code: str | None
    alt_code: str | None
    alt_name: str | None
    measure: str
    amount_yuan: float
    amount_printed: str
    unit_printed: str
    page: int
    column: str = ""
    row_label: str = ""
    placement: str = ""

    def as_dict(self) -> dict:
        """The row as a dict (fields are plain values: a shallow copy, unlike ``asdict``'s
        recursive deep copy, which cost 5 % of a document's work)."""
        return {name: getattr(self, name) for name in _LINE_ITEM_FIELDS}


_LINE_ITEM_FIELDS = tuple(field.name for field in fields(LineItem))


@dataclass(slots=True)
class Context:
    doc_id: str
    fiscal_year: int | None
    template: Template
    vocab: Vocabulary


# --------------------------------------------------------------------------- headers


def header_text(text: str) -> str:
    """Header cells compare without spaces or line breaks (headers wrapped mid-word)."""
    return re.sub(r"\s+", "", fold_width(text))


def _is_body_row(texts: list[str]) -> bool:
    """A row is data when it holds a figure with decimals, a code, or a total with figures.

    Header rows hold words and sometimes column numbers (栏次 1 2 3), never decimals or codes.
    """
    integers = 0
    total = False
    for text in texts:
        t = text.replace("\n", "").replace(" ", "")
        if not t:
            continue
        if parse_amount(t) is not None:
            if "." in t or "," in t or t in {"0", "-0"} or len(t.lstrip("-(")) >= 3:
                return True
            integers += 1
        if is_code(t) or split_code_name(t)[0] is not None and not t.isdigit():
            return True
        if clean_name(t) in {"合计", "总计"}:
            total = True
    return total and integers > 0


def split_header(grid: RawGrid) -> int:
    """Index of the first body row (rows before it are the header)."""
    for index in range(len(grid.rows)):
        if _is_body_row(grid.row_texts(index)):
            return index
    return len(grid.rows)


def column_paths(grid: RawGrid, n_header: int) -> list[list[str]]:
    """The header path above each atomic column, top level first (merged headers kept)."""
    paths: list[list[str]] = [[] for _ in range(grid.n_cols)]
    cells = sorted(
        (cell for row in grid.rows[:n_header] for cell in row), key=lambda c: (c.top, c.x0)
    )
    for cell in cells:
        text = header_text(cell.text)
        if not text:
            continue
        for col in range(cell.col0, cell.col1 + 1):
            if not paths[col] or paths[col][-1] != text:
                paths[col].append(text)
    return paths


def role_of(path: list[str], rules: Iterable[ColumnRule]) -> str | None:
    """The role of the first column rule a header path matches (None: no rule does)."""
    return next((rule.role for rule in rules if rule.matches(path)), None)


def column_roles(paths: list[list[str]], rules: Iterable[ColumnRule]) -> list[str | None]:
    rules = list(rules)
    roles = []
    for path in paths:
        role = role_of(path, rules)
        for k in (2, 3):  # a header cell cut into lines by ruled shading ("单位预留机动经/费")
            if role is None and len(path) >= k:
                role = role_of([*path[:-k], "".join(path[-k:])], rules)
        roles.append(role)
    return _group_subtotals(paths, roles, rules)


def _group_subtotals(
    paths: list[list[str]], roles: list[str | None], rules: list[ColumnRule]
) -> list[str | None]:
    """Two columns read as the row total: the one under a group header (财政拨款收入 over
    小计 beside a top-level 合计) is that group's subtotal, and takes the role its group
    header has on its own (财政拨款收入 → ``fiscal``)."""
    totals = [i for i, role in enumerate(roles) if role == "total"]
    if len(totals) < 2 or not any(len(paths[i]) == 1 for i in totals):
        return roles
    out = list(roles)
    for i in totals:
        if len(paths[i]) < 2:
            continue
        role = role_of([paths[i][-2]], rules)
        if role is not None and role not in LABEL_ROLES and role != "total":
            out[i] = role
    return out


@dataclass(slots=True)
class Frame:
    """A grid's body with its column paths and roles (inherited by header-less continuations)."""

    grid: RawGrid
    paths: list[list[str]]
    roles: list[str | None]
    body: list[list[str]]
    header_rows: set[tuple[str, ...]]


def _row_signature(grid: RawGrid, index: int) -> tuple[str, ...]:
    return tuple(header_text(t) for t in grid.row_texts(index))


def _repeated_header_rows(grid: RawGrid, previous: Frame) -> int:
    """Leading rows of a continuation grid that repeat the previous page's header."""
    count = 0
    while count < len(grid.rows) and _row_signature(grid, count) in previous.header_rows:
        count += 1
    return count


def frames_of(table: TableInstance, ctx: Context) -> list[Frame]:
    """One frame per grid; a continuation page reuses the first page's header.

    Continuation pages may repeat the header or not: only rows equal to the first page's
    header rows are skipped there, so body rows without figures (blank cells) stay body rows.
    """
    rules = [*ctx.template.columns, *ctx.vocab.columns]
    frames: list[Frame] = []
    previous: Frame | None = None
    for grid in table.grids:
        if previous is None:
            n_header = split_header(grid)
            paths = column_paths(grid, n_header)
        else:
            n_header = _repeated_header_rows(grid, previous)
            paths = column_paths(grid, n_header) if n_header else _inherit_paths(previous, grid)
        roles = column_roles(paths, rules)
        body = [grid.row_texts(i) for i in range(n_header, len(grid.rows))]
        header_rows = {_row_signature(grid, i) for i in range(n_header)}
        if previous is not None:
            header_rows |= previous.header_rows
        frame = Frame(grid, paths, roles, body, header_rows)
        frames.append(frame)
        previous = frame
    return frames


def _inherit_paths(previous: Frame, grid: RawGrid) -> list[list[str]]:
    """Match columns of a header-less continuation to the previous page's by x position."""
    if grid.n_cols == previous.grid.n_cols:
        return [list(p) for p in previous.paths]
    old = previous.grid.col_bounds
    centres = [(old[i] + old[i + 1]) / 2 for i in range(len(old) - 1)]
    out = []
    for i in range(grid.n_cols):
        centre = (grid.col_bounds[i] + grid.col_bounds[i + 1]) / 2
        nearest = min(range(len(centres)), key=lambda j: abs(centres[j] - centre))
        out.append(list(previous.paths[nearest]))
    return out


# --------------------------------------------------------------------------- rows


def total_name(label: str, vocab: Vocabulary) -> str | None:
    """``合计``/``总计`` when the row label is a grand-total or subtotal label."""
    name = clean_name(label).replace(" ", "")
    for rule in vocab.totals:
        if name in rule.labels:
            return rule.name
    return None


def _printed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def placement_of(method: str) -> str:
    """How a grid placed its cells, whichever page reader read the page: ``ruled`` (drawn
    rules), ``aligned`` (rebuilt from the text's alignment), or the fallback reader's name
    (``camelot-stream``)."""
    if method.endswith("-aligned"):
        return "aligned"
    if method.endswith("-grid"):
        return "ruled"
    return method


def _make_item(
    ctx: Context,
    table: TableInstance,
    frame: Frame,
    classification: str,
    code: str | None,
    name: str,
    measure: str,
    printed: str,
    column: list[str],
    row_label: str,
    alt_code: str | None = None,
    alt_name: str | None = None,
) -> LineItem | None:
    value = parse_amount(printed)
    if value is None:
        return None
    unit = table.unit or ctx.template.default_unit
    return LineItem(
        doc_id=ctx.doc_id,
        fiscal_year=ctx.fiscal_year,
        table_no=table.table_no,
        kind=table.kind,
        classification=classification,
        code=code,
        name=name,
        level=code_level(classification, code),
        parent_code=parent_code(classification, code),
        alt_code=alt_code,
        alt_name=alt_name,
        measure=measure,
        amount_yuan=to_yuan(value, unit),
        amount_printed=_printed(printed),
        unit_printed=unit,
        page=frame.grid.page,
        column="/".join(column),
        row_label=clean_label(row_label),
        placement=placement_of(frame.grid.method),
    )


def _first(roles: list[str | None], role: str) -> int | None:
    return next((i for i, r in enumerate(roles) if r == role), None)


def _code_groups(texts: list[str], roles: list[str | None]) -> list[str | None]:
    """The codes of each 类 / 款 / 项 column group, left to right; a 款 or 项 printed without
    its leading zero (``2`` for ``02``, a spreadsheet's number format) is padded to its two
    digits. A table may print two such groups (部门经济分类 类/款 beside 政府经济分类 类/款):
    a 类 column after a 款 or 项 column starts the next group."""
    groups: list[list[str]] = []
    previous: str | None = None
    for i, r in enumerate(roles):
        if r not in {"code_lei", "code_kuan", "code_xiang"}:
            continue
        if not groups or (r == "code_lei" and previous in {"code_kuan", "code_xiang"}):
            groups.append([])
        previous = r
        part = header_text(texts[i])
        if r != "code_lei" and len(part) == 1 and part.isdigit():
            part = "0" + part
        groups[-1].append(part)
    joined = ["".join(p for p in group if p) for group in groups]
    return [code if is_code(code) else None for code in joined]


def read_row_label(
    texts: list[str], roles: list[str | None], classification: str = "function"
) -> tuple[str | None, str, str | None, str | None]:
    """(code, name, alt_code, alt_name) of a coded row, whatever way the codes are printed."""
    groups = _code_groups(texts, roles)  # the first group is the row's code
    code: str | None = groups[0] if groups else None
    name = ""
    leftovers: list[str] = []
    for index, role in enumerate(roles):
        text = texts[index].strip()
        if not text:
            continue
        if role == "seq":
            tokens = fold_width(text).split()
            if len(tokens) > 1 and is_code(tokens[-1]):  # a row number and a code in one cell
                code = code or tokens[-1]
        elif role == "code" and classification == "unit" and _UNIT_CODE.match(header_text(text)):
            code = code or header_text(text)  # budget-unit codes (单位编码) are not 3/5/7 digits
        elif role in {"code", "code_name"}:
            found, rest = split_code_name(text)
            code = code or found
            if rest:
                leftovers.append(rest)
        elif role == "name":
            found, rest = split_code_name(text)
            if found and not code:
                code = found
            name = name or rest
    if not name and leftovers:
        name = leftovers[0]
    alt_code = alt_name = None
    i = _first(roles, "alt_code")
    if i is not None and is_code(texts[i].strip()):
        alt_code = texts[i].strip()
    j = _first(roles, "alt_name")
    if j is not None and texts[j].strip():
        alt_name = clean_name(texts[j])
    if alt_code is None and len(groups) > 1 and groups[1]:
        alt_code = groups[1]  # a second 类/款 group: the other economic classification
    own, alt = _econ_labels(texts, roles, classification)
    if own is not None:
        code, name = code or own[0], name or own[1]
    if alt is not None and alt_code is None:
        alt_code, alt_name = alt
    unit = _first(roles, "unit_label")
    if not name and unit is not None and texts[unit].strip():
        name = texts[unit]
    return code, clean_name(name), alt_code, alt_name


def _econ_labels(
    texts: list[str], roles: list[str | None], classification: str
) -> tuple[tuple[str | None, str] | None, tuple[str | None, str | None] | None]:
    """(own, alt) (code, name) pairs from 部门/政府经济分类 columns printed as code-name.

    The column of the table's own axis labels the row; the other economic column (the
    部门 one first, the finer of the two, when the row's axis is 功能分类) is its alt code.
    """
    cells: dict[str, tuple[str | None, str]] = {}
    for role, axis in (("label_econ_dept", "econ_dept"), ("label_econ_gov", "econ_gov")):
        index = _first(roles, role)
        if index is not None and texts[index].strip():
            cells[axis] = split_code_name(texts[index].replace("\n", ""))
    own = cells.pop(classification, None)
    alt_pair = cells.get("econ_dept") or cells.get("econ_gov")
    alt = (alt_pair[0], alt_pair[1] or None) if alt_pair else None
    return own, alt


def block_columns(roles: list[str | None]) -> list[list[int]]:
    """Column indexes of each (labels, figures) block, left to right.

    A label column after a figure column starts the next block: a row printing
    (编码, 名称, 决算数 | 编码, 名称, 决算数) holds two items, not one.
    """
    blocks: list[list[int]] = [[]]
    seen_figure = False
    for index, role in enumerate(roles):
        is_label = role in LABEL_ROLES
        if is_label and seen_figure:
            blocks.append([])
            seen_figure = False
        seen_figure = seen_figure or (role is not None and not is_label)
        blocks[-1].append(index)
    return blocks


def coded_blocks(frame: Frame, blocks: list[CodedBlock]) -> list[Frame]:
    """The frame as one frame per declared block (the whole frame when none is declared).

    Each block frame keeps its own columns only and renames its figure columns' roles by
    the block's ``measures`` (the 决算数 of the 人员经费 block is ``basic_personnel``); a block
    found beyond the declared ones keeps the roles its header gives.
    """
    if not blocks:
        return [frame]
    out = []
    for number, columns in enumerate(block_columns(frame.roles)):
        rename = blocks[number].measures if number < len(blocks) else {}
        roles = [frame.roles[i] for i in columns]
        out.append(
            Frame(
                grid=frame.grid,
                paths=[frame.paths[i] for i in columns],
                roles=[rename.get(r, r) if r else r for r in roles],
                body=[[texts[i] for i in columns] for texts in frame.body],
                header_rows=frame.header_rows,
            )
        )
    return out


def _label_total(texts: list[str], roles: list[str | None], vocab: Vocabulary) -> str:
    """A total label printed across the code columns (``合计``, ``人员经费合计`` in a cell
    spanning 类/款/名称 has its text in the first of them), read when the name is blank.

    A row-number column (序号) before the code columns numbers the total row too
    (``1 | 合计 | … | 198.94``): its number is not the label."""
    text = next(
        (t for t, r in zip(texts, roles, strict=True) if r in LABEL_ROLES and r != "seq" and t),
        "",
    )
    return text if total_name(text, vocab) else ""


def map_coded_rows(table: TableInstance, ctx: Context) -> list[LineItem]:
    """Rows keyed by a code (功能/经济分类 detail tables, unit tables): one item per figure.

    A table declaring ``blocks`` prints several coded blocks side by side in a row; each
    block is read on its own, with its own codes.
    """
    items: list[LineItem] = []
    for frame in frames_of(table, ctx):
        for block in coded_blocks(frame, table.rule.blocks):
            items.extend(_map_coded_frame(table, ctx, block))
    return items


def _map_coded_frame(table: TableInstance, ctx: Context, frame: Frame) -> list[LineItem]:
    """The items of one frame (or one block of it) of a coded table."""
    classification = table.rule.classification or "function"
    label_class = "unit" if classification == "project" else classification
    measures = [(i, r) for i, r in enumerate(frame.roles) if r and r not in LABEL_ROLES]
    items: list[LineItem] = []
    last: list[LineItem] = []
    for texts in frame.body:
        code, name, alt_code, alt_name = read_row_label(texts, frame.roles, label_class)
        has_figure = any(parse_amount(texts[i]) is not None for i, _ in measures)
        if not has_figure:
            # a long name wrapped into the next row continues a coded row; after a row
            # keyed by its name only, a figure-less name is a row of its own (left blank)
            if name and not code and last and last[0].code:
                for item in last:
                    item.name = clean_name(item.name + name)
            continue
        if not code and not name:
            name = _label_total(texts, frame.roles, ctx.vocab)
        label = name or (code or "")
        total = total_name(name, ctx.vocab) if not code else None
        if total:
            name = total
        if not code and not name and not any(r in LABEL_ROLES for r in frame.roles):
            name = "合计"  # a table printed without a label column: its one row is the total
        if not code and not name:
            continue
        last = []
        # 专项 lists: rows with a unit code are budget units, the others projects
        row_class = "unit" if classification == "project" and code else classification
        for index, measure in measures:
            item = _make_item(
                ctx,
                table,
                frame,
                row_class,
                code,
                name,
                measure,
                texts[index],
                frame.paths[index],
                label,
                alt_code,
                alt_name,
            )
            if item:
                items.append(item)
                last.append(item)
    return items


def _block_classification(path: list[str], ctx: Context) -> str:
    joined = "/".join(path)
    for rule in ctx.vocab.blocks:
        if any(token in joined for token in rule.header_contains):
            return rule.classification
    return "function"


def _covering_texts(grid: RawGrid, index: int) -> list[str]:
    """Per atomic column, the text of the cell of row ``index`` that covers it (spans included)."""
    out = [""] * grid.n_cols
    if 0 <= index < len(grid.rows):
        for cell in grid.rows[index]:
            for col in range(cell.col0, cell.col1 + 1):
                out[col] = cell.text
    return out


def map_side_by_side(table: TableInstance, ctx: Context) -> list[LineItem]:
    """收入 | 支出 blocks printed side by side: each block is unpivoted on its own."""
    items: list[LineItem] = []
    for frame in frames_of(table, ctx):
        blocks: list[tuple[int, list[tuple[int, str]], str]] = []
        for index, role in enumerate(frame.roles):
            if role == "name" or (role is None and not blocks):
                blocks.append((index, [], _block_classification(frame.paths[index], ctx)))
            elif role and role not in LABEL_ROLES and blocks:
                blocks[-1][1].append((index, role))
        first_body = len(frame.grid.rows) - len(frame.body)
        named: set[tuple[int, str, str]] = set()  # (label column, axis, 类 name) coded
        for row_index, texts in enumerate(frame.body):
            covering = _covering_texts(frame.grid, first_body + row_index)
            for label_index, measures, classification in blocks:
                # a label spanning from the block on its left (支出合计 over 功能分类 and 支出用途)
                label = texts[label_index] or covering[label_index]
                if not clean_name(label):
                    continue
                name = total_name(label, ctx.vocab) or clean_name(label)
                code = None
                if classification in {"function", "econ_gov", "econ_dept"} and name not in {
                    "合计",
                    "总计",
                }:
                    code = code_for_name(classification, name, ctx.fiscal_year)
                    # 五、其他支出 then 其他支出 (款) and 其他支出 (项) under it: one 类 only
                    if code is not None and (label_index, classification, name) in named:
                        code = None
                    named.add((label_index, classification, name))
                for index, measure in measures:
                    item = _make_item(
                        ctx,
                        table,
                        frame,
                        classification,
                        code,
                        name,
                        measure,
                        texts[index],
                        frame.paths[index],
                        label,
                    )
                    if item:
                        items.append(item)
    return items


def _row_measure(label: str, ctx: Context) -> str | None:
    """三公 tables with one row per year (2020年预算数 / 2019年预算数)."""
    match = _YEAR.search(label)
    if match and ctx.fiscal_year:
        year = int(match.group(1))
        return "amount" if year >= ctx.fiscal_year else "prior_year"
    if "增减" in label:
        return "change"
    if "上年" in label:
        return "prior_year"
    return None


_FUNDS = ("gpb", "gov_fund", "state_capital")


def _fund_leaf(path: list[str], ctx: Context) -> str | None:
    """The fund a leaf header names (一般公共预算 → gpb), for items split by fund."""
    if len(path) < 2:
        return None
    role = role_of(path[-1:], ctx.vocab.columns)
    return role if role in _FUNDS else None


def _fund_measure(group: str | None, row_measure: str | None) -> str | None:
    """A fund column's measure: the fund (this year's figure), or ``prior_year_<fund>`` /
    ``change_<fund>`` on a row of last year's figures or of the change."""
    if not group or not group.startswith("fund:"):
        return None
    fund = group[5:]
    return fund if row_measure in (None, "amount") else f"{row_measure}_{fund}"


def _items_are_rows(columns: list[tuple[int, str, str | None]], frame: Frame, ctx: Context) -> bool:
    """The table lists its items as rows: no column names a specific item (at most the
    total, 合计), and at least two row labels do (行政经费, 因公出国(境)支出, 公务接待费 …)."""
    specific = {item for _index, item, _group in columns if item != "“三公”经费合计"}
    if specific:
        return False
    rules = [r for r in item_rules(ctx) if not r.under and r.item != "“三公”经费合计"]
    labels = [clean_name(texts[0]) for texts in frame.body if texts]
    return sum(1 for label in labels if any(r.matches([label]) for r in rules)) >= 2


def _items_as_rows(
    table: TableInstance, ctx: Context, frame: Frame, classification: str
) -> list[LineItem]:
    """A 三公 / 行政经费 table printed with one row per item and one column per fund: the row
    label names the item (by the item rules), the column its measure (合计 → amount)."""
    rules = item_rules(ctx)
    label_index = [i for i, r in enumerate(frame.roles) if r in LABEL_ROLES or r is None]
    items: list[LineItem] = []
    for texts in frame.body:
        label = clean_name("".join(texts[i] for i in label_index[:1]))
        if not label:
            continue
        rule = next((r for r in rules if not r.under and r.matches([label])), None)
        name = rule.item if rule else label
        for index, role in enumerate(frame.roles):
            if role is None or role in LABEL_ROLES:
                continue
            measure = "amount" if role == "total" else role
            item = _make_item(
                ctx,
                table,
                frame,
                classification,
                None,
                name,
                measure,
                texts[index],
                frame.paths[index],
                label,
            )
            if item:
                items.append(item)
    return items


def _year_measure(levels: list[str], ctx: Context) -> str | None:
    """An upper header naming a year (``2025年预算数`` over the items of a 2026 budget) says
    whether its columns are this year's figures or the year before's."""
    for level in levels:
        if _YEAR.search(level):
            return _row_measure(level, ctx)
    return None


def item_rules(ctx: Context) -> list[ItemRule]:
    """The template's item rules (tried first), then the vocabulary's."""
    return [*ctx.template.item_columns, *ctx.vocab.item_columns]


def _one_column_per_item(
    columns: list[tuple[int, str, str | None]], frame: Frame, ctx: Context
) -> list[tuple[int, str, str | None]]:
    """Two columns matched to the same item (and measure group): the one whose rule needs an
    upper header (``“三公”经费/小计``) keeps the item, the other keeps its printed header
    (a ``合计`` that also covers 会议费 and 培训费)."""
    seen: dict[tuple[str, str | None], list[int]] = {}
    for position, (_index, item, group) in enumerate(columns):
        seen.setdefault((item, group), []).append(position)
    out = list(columns)
    for positions in seen.values():
        if len(positions) < 2:
            continue
        specific = [
            p
            for p in positions
            if any(
                r.under and r.item == columns[p][1] and r.matches(frame.paths[columns[p][0]])
                for r in item_rules(ctx)
            )
        ]
        if len(specific) != 1:
            continue
        for p in positions:
            if p not in specific:
                index, _item, group = columns[p]
                out[p] = (index, clean_name(frame.paths[index][-1]), group)
    return out


def map_item_columns(table: TableInstance, ctx: Context) -> list[LineItem]:
    """Items are columns (三公经费 table): header path → item; the item rule, an upper header
    level or the row → measure."""
    classification = table.rule.classification or "three_public"
    rules = item_rules(ctx)
    items: list[LineItem] = []
    for frame in frames_of(table, ctx):
        columns: list[tuple[int, str, str | None]] = []
        label_cols: list[int] = []
        for index, path in enumerate(frame.paths):
            fund = _fund_leaf(path, ctx)
            if fund is not None:
                # items split by fund (因公出国(境)费 over 一般公共预算 | 政府性基金预算 | …):
                # the item is the header above the fund
                item_rule = next((r for r in rules if r.matches(path[:-1])), None)
                if item_rule is not None:
                    columns.append((index, item_rule.item, f"fund:{fund}"))
                    continue
            item_rule = next((r for r in rules if path and r.matches(path)), None)
            for k in (2, 3):  # a header cell cut into lines by ruled shading ("因公出/国(境)/费")
                if item_rule is None and len(path) >= k:
                    joined = [*path[:-k], "".join(path[-k:])]
                    item_rule = next((r for r in rules if r.matches(joined)), None)
            if item_rule is None:
                label_cols.append(index)
                continue
            group = (
                item_rule.measure
                or _year_measure(path[:-1], ctx)
                or next(
                    (
                        g.measure
                        for g in ctx.vocab.item_groups
                        for level in path[:-1]
                        if any(t in level for t in g.header_contains)
                    ),
                    None,
                )
            )
            columns.append((index, item_rule.item, group))
        if _items_are_rows(columns, frame, ctx):  # 行政经费 / “三公”经费 / 其中：因公出国 …
            items.extend(_items_as_rows(table, ctx, frame, classification))
            continue
        columns = _one_column_per_item(columns, frame, ctx)
        for texts in frame.body:
            label = " ".join(t for i in label_cols if (t := texts[i].strip()))
            row_measure = _row_measure(label, ctx)
            for index, item_name, group in columns:
                measure = _fund_measure(group, row_measure) or group or row_measure or "amount"
                item = _make_item(
                    ctx,
                    table,
                    frame,
                    classification,
                    None,
                    item_name,
                    measure,
                    texts[index],
                    frame.paths[index],
                    label,
                )
                if item:
                    items.append(item)
    return items


LAYOUTS = {
    "coded_rows": map_coded_rows,
    "unit_rows": map_coded_rows,
    "project_rows": map_coded_rows,
    "side_by_side": map_side_by_side,
    "item_columns": map_item_columns,
}


def normalize_table(table: TableInstance, ctx: Context) -> list[LineItem]:
    """Line items of one identified table (none for empty forms and unmapped layouts)."""
    if table.rule is None or table.is_empty:
        return []
    mapper = LAYOUTS.get(table.rule.layout)
    return mapper(table, ctx) if mapper else []


def make_context(doc_id: str, fiscal_year: int | None, template: Template) -> Context:
    return Context(doc_id=doc_id, fiscal_year=fiscal_year, template=template, vocab=vocabulary())
