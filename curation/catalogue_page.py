"""The catalogue page (index.html): datasets, a chart, units and documents; self-contained.

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import html
from string import Template

from . import query as q
from .release_model import (
    CATALOGUE_DIR,
    PACKAGE_TITLE,
    SOURCE_NOTE,
    Release,
    _human_bytes,
)

# --------------------------------------------------------------------------- catalogue page


CHART_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = len(str(int(value))) - 1
    base = 10**exponent
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * base >= value:
            return step * base
    return 10 * base


def render_chart(totals: list[tuple[int, str, str, float]]) -> str:
    """Inline SVG: stacked bars of totals by function class (类) per year, in 万元."""
    e = html.escape
    if not totals:
        return (
            '<svg id="function-chart" xmlns="http://www.w3.org/2000/svg" width="640" height="60" role="img" '
            'aria-label="no data"><text x="10" y="35">No function-classification figures in this release.</text></svg>'
        )
    by_class: dict[tuple[str, str], float] = {}
    for _, code, name, total in totals:
        by_class[(code, name)] = by_class.get((code, name), 0.0) + total
    ranked = sorted(by_class, key=lambda k: (-by_class[k], k[0]))
    top = ranked[: len(CHART_COLORS) - 1]
    other = ("", "其他")
    classes = top + ([other] if len(ranked) > len(top) else [])
    colour = {k: CHART_COLORS[i] for i, k in enumerate(classes)}
    years = sorted({t[0] for t in totals})
    stacks: dict[int, dict[tuple[str, str], float]] = {y: {} for y in years}
    for year, code, name, total in totals:
        key = (code, name) if (code, name) in colour else other
        stacks[year][key] = stacks[year].get(key, 0.0) + total / 10000
    peak = _nice_ceiling(max(sum(s.values()) for s in stacks.values()))
    left, top_margin, plot_h, bar_w, gap = 90, 20, 300, 56, 28
    plot_w = max(len(years) * (bar_w + gap) + gap, 300)
    legend_x = left + plot_w + 30
    width = legend_x + 260
    height = max(top_margin + plot_h + 50, 30 + 22 * len(classes))
    parts = [
        f'<svg id="function-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="一般公共预算支出 by function class and year (万元)">',
        f'<text x="{left}" y="12" class="axis-title">万元</text>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top_margin + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:,.0f}</text>'
        )
    for index, year in enumerate(years):
        x = left + gap + index * (bar_w + gap)
        y = top_margin + plot_h
        for key in classes:
            value = stacks[year].get(key, 0.0)
            if value <= 0:
                continue
            h = plot_h * value / peak
            y -= h
            label = f"{year} · {key[0]} {key[1]}".replace("  ", " ").strip()
            parts.append(
                f'<rect x="{x}" y="{y:.2f}" width="{bar_w}" height="{h:.2f}" fill="{colour[key]}">'
                f"<title>{e(label)}: {value:,.2f} 万元</title></rect>"
            )
        total = sum(stacks[year].values())
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{y - 4:.1f}" text-anchor="middle" class="tick">{total:,.0f}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{top_margin + plot_h + 18}" text-anchor="middle" class="year">{year}</text>'
        )
    for index, key in enumerate(classes):
        y = 30 + index * 22
        parts.append(
            f'<rect x="{legend_x}" y="{y - 11}" width="14" height="14" fill="{colour[key]}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 20}" y="{y}" class="legend">{e((key[0] + " " + key[1]).strip())}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _html_table(
    table_id: str, headers: list[str], rows: list[list], numeric: set[int] = frozenset()
) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            css = ' class="num"' if i in numeric else ""
            cells.append(
                f"<td{css}>{value if isinstance(value, Markup) else e('' if value is None else str(value))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>"
    )


class Markup(str):
    """HTML that is already escaped."""


def _link(path: str, label: str) -> Markup:
    return Markup(f'<a href="{html.escape(path)}">{html.escape(label)}</a>')


def render_catalogue(release: Release, chart_svg: str, file_sizes: dict[str, int]) -> str:
    def size(path: str) -> str:
        return _human_bytes(file_sizes[path]) if path in file_sizes else ""

    dataset_rows = []
    for d in release.datasets:
        csv_path, parquet_path = f"data/{d.name}.csv", f"data/{d.name}.parquet"
        dataset_rows.append(
            [
                Markup(f"<code>{html.escape(d.name)}</code>"),
                d.dataset.zh,
                d.dataset.en,
                f"{d.rows:,}",
                len(d.columns),
                Markup(
                    f"{_link(csv_path, 'CSV')} <small>{size(csv_path)}</small> · "
                    f"{_link(parquet_path, 'Parquet')} <small>{size(parquet_path)}</small>"
                ),
            ]
        )
    for view, spec in q.CODE_LISTS.items():
        path = f"codes/{view.removeprefix('codes_')}.csv"
        if path in file_sizes:
            dataset_rows.append(
                [
                    Markup(f"<code>{html.escape(view)}</code>"),
                    spec.zh,
                    spec.en,
                    "",
                    len(spec.columns),
                    Markup(f"{_link(path, 'CSV')} <small>{size(path)}</small>"),
                ]
            )
    datasets_html = _html_table(
        "datasets",
        ["dataset", "中文", "description", "rows", "columns", "download"],
        dataset_rows,
        {3, 4},
    )
    documents = sorted(
        release.published,
        key=lambda d: (
            d.get("admin_region") or "",
            d.get("unit_name") or "",
            d.get("fiscal_year") or 0,
            d["doc_id"],
        ),
    )
    document_rows = [
        [
            d.get("unit_name") or "—",
            d.get("fiscal_year"),
            {"budget": "预算", "final_account": "决算"}.get(d.get("doc_kind"), d.get("doc_kind")),
            d.get("template") or "—",
            Markup(
                f'<span class="status {html.escape(str(d.get("status")))}">{html.escape(str(d.get("status")))}</span>'
            ),
            f"{d.get('n_line_items') or 0:,}",
            d.get("source_name"),
            Markup(f"<code>{d['doc_id']}</code>"),
        ]
        for d in documents
    ]
    documents_html = _html_table(
        "documents",
        [
            "单位 unit",
            "年度 year",
            "类型",
            "模板 template",
            "状态 status",
            "明细行 line items",
            "file",
            "doc_id",
        ],
        document_rows,
        {1, 5},
    )
    units: dict[tuple, dict] = {}
    for d in documents:
        key = (d.get("admin_region") or "", d.get("unit_name") or "", d.get("unit_code") or "")
        entry = units.setdefault(key, {"years": set(), "docs": 0})
        if d.get("fiscal_year"):
            entry["years"].add(d["fiscal_year"])
        entry["docs"] += 1
    unit_rows = [
        [name or "—", code, region, ", ".join(str(y) for y in sorted(v["years"])), v["docs"]]
        for (region, name, code), v in sorted(units.items())
    ]
    units_html = _html_table(
        "units",
        ["单位 unit", "单位编码 code", "行政区划 region", "年度 years", "文档 documents"],
        unit_rows,
        {4},
    )
    files = [
        (
            "datapackage.json",
            "Frictionless Data Package descriptor (table schemas, keys, licence, sources)",
        ),
        (
            "data-dictionary.md",
            "data dictionary: every column in Chinese and English, code lists, views",
        ),
        ("RELEASE.md", "release notes: documents added, replaced, removed, excluded"),
        ("validation-summary.csv", "per document: status, checks, errors, warnings"),
        ("codes/README.md", "code lists: provenance and evidence levels"),
        ("SHA256SUMS", "checksums (sha256sum -c SHA256SUMS)"),
    ]
    files_html = "\n".join(
        f"<li>{_link(path, path)} <small>{size(path)}</small> — {html.escape(text)}</li>"
        for path, text in files
    )
    template = Template((CATALOGUE_DIR / "index.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(f"{PACKAGE_TITLE} — {release.version}"),
        version=html.escape(release.version),
        css=(CATALOGUE_DIR / "catalogue.css").read_text(encoding="utf-8"),
        js=(CATALOGUE_DIR / "catalogue.js").read_text(encoding="utf-8"),
        n_documents=len(release.published),
        n_units=len(units),
        n_excluded=len(release.excluded),
        years=html.escape(_year_span(release.published)),
        license=_link(release.license["path"], release.license["title"]),
        source_note=html.escape(SOURCE_NOTE),
        datasets_table=datasets_html,
        files_list=files_html,
        chart=chart_svg,
        units_table=units_html,
        documents_table=documents_html,
    )


def _year_span(documents: list[dict]) -> str:
    years = sorted({d["fiscal_year"] for d in documents if d.get("fiscal_year")})
    if not years:
        return "—"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
