"""Build the year-aware reference code lists in ``mappings/codes/``.

Writes ``function.csv`` (支出功能分类), ``econ_dept.csv`` (部门预算支出经济分类),
``econ_gov.csv`` (政府预算支出经济分类) and ``conflicts.csv`` (names that lost a
same-code/same-year conflict, plus documents left out on purpose).

Sources, most trusted first (see README.md in this folder):

1. what the corpora print:
   * ``<corpus>/dev/*.truth.json`` line items (synthetic Shaanxi/national documents),
     ``alt_code``/``alt_name`` being 政府预算支出经济分类 codes;
   * the real PDFs in ``<corpus>/real/`` (tables read with pdfplumber);
2. the seed CSVs in ``<reference>/`` (each row says how sure it is);
3. domain knowledge for the 类 level (function 201-233, econ_dept 301-399, econ_gov 501-599).

Deterministic: re-running regenerates byte-identical CSVs for the same inputs.

Usage::

    python mappings/codes/build_code_lists.py \
        [--corpus /work/shared/corpus] [--reference /work/shared/reference] [--out mappings/codes]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path("/work/shared/corpus")
DEFAULT_REFERENCE = Path("/work/shared/reference")

CLASSIFICATIONS = ("function", "econ_dept", "econ_gov")
FILES = {c: f"{c}.csv" for c in CLASSIFICATIONS}
COLUMNS = ["code", "name", "level", "parent_code", "valid_from", "valid_to", "evidence", "source"]

# Evidence levels, strongest first.
OBSERVED = "observed_in_published_table"
SEED_OBSERVED = "reference_seed_observed"
SEED_UNVERIFIED = "reference_seed_unverified"
DOMAIN = "domain_knowledge"
EVIDENCE_RANK = {OBSERVED: 0, SEED_OBSERVED: 1, SEED_UNVERIFIED: 2, DOMAIN: 3}

# Years in which a classification was reformed.  When a code's old name was last seen
# before such a year and its new name first seen in or after it, the era boundary is the
# reform year rather than the first year the new name happens to be seen.
#   function : 2019 edition renamed 207/210/215/220 and added 224 (project brief).
#   econ_dept: 2018 支出经济分类科目改革 (财预〔2017〕98号) renamed 310, 30307, re-used 30311.
REFORM_YEARS = {"function": (2019,), "econ_dept": (2018,), "econ_gov": (2018,)}

# Real PDFs that are not harvested at all.
EXCLUDED_DOCS = {
    "shanghai_putuo_finance_bureau_2024_dept_final_MODIFIED.pdf": (
        "test copy with errors added on purpose (GovBudgetChecker samples/bad); not an original publication"
    ),
}
EXCLUDED_PREFIXES = {
    "taiwan_": "Taiwan budgets use a different classification system",
}
EXCLUDED_SUBSTRINGS = {
    "annual_report": "政府信息公开年度报告, not a budget table",
}
# (document, classification) pairs whose printed codes are not the national scheme.
EXCLUDED_DOC_TABLES = {
    ("shanghai_putuo_welfare_home_2024_unit_budget.pdf", "econ_dept"): (
        "its 基本支出经济分类 table numbers the 款 sequentially (30202 咨询费, 30203 水费, 30204 电费, "
        "30205 邮电费, 30206 办公设备购置费 ... 303 离退休人员经费, 30301 退休费): a local renumbering "
        "that contradicts every other 2017-2026 document"
    ),
}

# Domain knowledge, used only where neither the corpora nor the seeds give the code.
DOMAIN_FUNCTION_CLASSES = {
    "201": "一般公共服务支出",
    "202": "外交支出",
    "203": "国防支出",
    "204": "公共安全支出",
    "205": "教育支出",
    "206": "科学技术支出",
    "207": "文化旅游体育与传媒支出",
    "208": "社会保障和就业支出",
    "209": "社会保险基金支出",
    "210": "卫生健康支出",
    "211": "节能环保支出",
    "212": "城乡社区支出",
    "213": "农林水支出",
    "214": "交通运输支出",
    "215": "资源勘探工业信息等支出",
    "216": "商业服务业等支出",
    "217": "金融支出",
    "219": "援助其他地区支出",
    "220": "自然资源海洋气象等支出",
    "221": "住房保障支出",
    "222": "粮油物资储备支出",
    "223": "国有资本经营预算支出",
    "224": "灾害防治及应急管理支出",
    "227": "预备费",
    "229": "其他支出",
    "230": "转移性支出",
    "231": "债务还本支出",
    "232": "债务付息支出",
    "233": "债务发行费用支出",
}
# 类 names before the 2019 edition (valid_to 2018) and classes added in 2019 (valid_from 2019).
DOMAIN_FUNCTION_PRE2019 = {
    "207": "文化体育与传媒支出",
    "210": "医疗卫生与计划生育支出",
    "215": "资源勘探信息等支出",
    "220": "国土海洋气象等支出",
}
DOMAIN_FUNCTION_ADDED = {"224": 2019}
# 部门预算支出经济分类 类 since the 2018 reform.
DOMAIN_ECON_DEPT_CLASSES = {
    "301": "工资福利支出",
    "302": "商品和服务支出",
    "303": "对个人和家庭的补助",
    "307": "债务利息及费用支出",
    "309": "资本性支出(基本建设)",
    "310": "资本性支出",
    "311": "对企业补助(基本建设)",
    "312": "对企业补助",
    "313": "对社会保障基金补助",
    "399": "其他支出",
}
DOMAIN_ECON_GOV_CLASSES = {
    "501": "机关工资福利支出",
    "502": "机关商品和服务支出",
    "503": "机关资本性支出(一)",
    "504": "机关资本性支出(二)",
    "505": "对事业单位经常性补助",
    "506": "对事业单位资本性补助",
    "507": "对企业补助",
    "508": "对企业资本性支出",
    "509": "对个人和家庭的补助",
    "510": "对社会保障基金补助",
    "511": "债务利息及费用支出",
    "512": "债务还本支出",
    "513": "转移性支出",
    "514": "预备费及预留",
    "599": "其他支出",
}

CODE_RE = {
    "function": re.compile(r"2[0-3]\d(?:\d\d){0,2}"),
    "econ_dept": re.compile(r"3\d\d(?:\d\d)?"),
    "econ_gov": re.compile(r"5\d\d(?:\d\d)?"),
}
ANY_CODE = re.compile(r"(?:2[0-3]\d(?:\d\d){0,2}|3\d\d(?:\d\d)?|5\d\d(?:\d\d)?)")
SUBCODE = re.compile(r"\d{1,2}")
CJK = re.compile(r"[\u3400-\u9fff]")
YEAR_IN_NAME = re.compile(r"_(20\d\d)(?=[_.])")


# --------------------------------------------------------------------------- helpers


def clean_name(text: str | None) -> str:
    """Fold full-width ASCII (（）→()) and drop every whitespace (wrapped cells, justified text)."""
    out = []
    for ch in text or "":
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        out.append(ch)
    return re.sub(r"\s+", "", "".join(out).replace("\u3000", " "))


def classify(code: str) -> str | None:
    for classification, pattern in CODE_RE.items():
        if pattern.fullmatch(code):
            return classification
    return None


def level_of(code: str) -> int:
    return {3: 1, 5: 2, 7: 3}[len(code)]


def parent_of(code: str) -> str:
    return code[:-2] if len(code) > 3 else ""


def year_ranges(years) -> str:
    ys = sorted(set(years))
    parts, start, prev = [], None, None
    for y in ys:
        if start is None:
            start = prev = y
        elif y == prev + 1:
            prev = y
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = y
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(parts)


# --------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Obs:
    classification: str
    code: str
    name: str
    year: int | None
    source: str  # file name
    kind: str  # real | dev | seed_observed | seed_unverified | domain


def harvest_dev(corpus: Path) -> list[Obs]:
    out = []
    for path in sorted((corpus / "dev").glob("*.truth.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        year = int(doc["document"]["fiscal_year"])
        for item in doc.get("line_items", []):
            cls = item.get("classification")
            if cls in CLASSIFICATIONS and item.get("code") and item.get("name"):
                out.append(
                    Obs(cls, str(item["code"]), clean_name(item["name"]), year, path.name, "dev")
                )
            if item.get("alt_code") and item.get("alt_name"):
                out.append(
                    Obs(
                        "econ_gov",
                        str(item["alt_code"]),
                        clean_name(item["alt_name"]),
                        year,
                        path.name,
                        "dev",
                    )
                )
    return out


def parse_table_row(cells: list[str]):
    """Yield (code, name) for every code group in a table row.

    Handles joined codes (``2010301 | 行政运行``), split columns (``201 | 03 | 01 | 行政运行``,
    ``301 | 2 | 津贴补贴``) and side-by-side halves (``301 | 01 | 基本工资 | amt | 302 | 01 | 办公费``).
    """
    i, n = 0, len(cells)
    while i < n:
        cell = cells[i]
        if not ANY_CODE.fullmatch(cell):
            i += 1
            continue
        code, j = cell, i + 1
        if len(cell) == 3:
            taken = 0
            while j < n and taken < 2 and (cells[j] == "" or SUBCODE.fullmatch(cells[j])):
                if cells[j]:
                    code += cells[j].zfill(2)
                j += 1
                taken += 1
        while j < n and cells[j] == "":
            j += 1
        if j < n and CJK.search(cells[j]) and ANY_CODE.fullmatch(code) and classify(code):
            yield code, cells[j]
            i = j + 1
        else:
            i += 1


def real_doc_skip_reason(name: str) -> str | None:
    if name in EXCLUDED_DOCS:
        return EXCLUDED_DOCS[name]
    for prefix, why in EXCLUDED_PREFIXES.items():
        if name.startswith(prefix):
            return why
    for sub, why in EXCLUDED_SUBSTRINGS.items():
        if sub in name:
            return why
    return None


def harvest_real(corpus: Path, notes: list[dict]) -> list[Obs]:
    import pdfplumber  # only needed here

    out = []
    for path in sorted((corpus / "real").glob("*.pdf")):
        why = real_doc_skip_reason(path.name)
        if why:
            notes.append({"kind": "excluded_document", "source": path.name, "detail": why})
            continue
        m = YEAR_IN_NAME.search(path.name)
        if not m:
            notes.append(
                {
                    "kind": "excluded_document",
                    "source": path.name,
                    "detail": "no fiscal year in file name",
                }
            )
            continue
        year = int(m.group(1))
        seen = set()
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                for table in page.extract_tables():
                    for row in table:
                        cells = [clean_name(c) for c in row]
                        for code, name in parse_table_row(cells):
                            cls = classify(code)
                            if (path.name, cls) in EXCLUDED_DOC_TABLES:
                                continue
                            key = (cls, code, name)
                            if key not in seen:
                                seen.add(key)
                                out.append(Obs(cls, code, name, year, path.name, "real"))
    for (doc, cls), why in sorted(EXCLUDED_DOC_TABLES.items()):
        notes.append(
            {"kind": "excluded_table", "classification": cls, "source": doc, "detail": why}
        )
    return out


# --------------------------------------------------------------------------- seeds


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def seed_kind(evidence_text: str) -> str:
    return (
        "seed_observed"
        if evidence_text.strip().startswith("observed_in_published_table")
        else "seed_unverified"
    )


@dataclass(frozen=True)
class SeedRow:
    classification: str
    code: str
    name: str
    year: int | None  # a year the seed says it was printed in
    era_from: int | None  # era hints (era seed only)
    era_to: int | None
    source: str
    kind: str


def harvest_seeds(reference: Path) -> list[SeedRow]:
    rows: list[SeedRow] = []
    f = reference / "functional_classification_observed.csv"
    if f.exists():
        for r in read_csv(f):
            name = clean_name(r.get("name"))
            if not name:
                continue
            year = (
                int(r["observed_fiscal_year"])
                if r.get("observed_fiscal_year", "").strip()
                else None
            )
            rows.append(
                SeedRow(
                    "function",
                    r["code"].strip(),
                    name,
                    year,
                    None,
                    None,
                    f.name,
                    seed_kind(r.get("evidence", "")),
                )
            )
    f = reference / "functional_class_level_by_era_seed.csv"
    if f.exists():
        for r in read_csv(f):
            code = r["code"].strip()
            new, old = clean_name(r.get("name_2019_onward")), clean_name(r.get("name_before_2019"))
            # Free-text evidence: "observed ..." only ever speaks of the 2019+ name.
            text = r.get("evidence", "")
            new_kind = (
                "seed_observed"
                if re.search(r"(^|\b)(2019\+ name )?observed", text) and "unverified" not in text
                else "seed_unverified"
            )
            if new and old and new != old:
                rows.append(SeedRow("function", code, new, None, 2019, None, f.name, new_kind))
                rows.append(
                    SeedRow("function", code, old, None, None, 2018, f.name, "seed_unverified")
                )
            elif new and not old:
                rows.append(SeedRow("function", code, new, None, 2019, None, f.name, new_kind))
            elif new:
                rows.append(SeedRow("function", code, new, None, None, None, f.name, new_kind))
    f = reference / "dept_economic_classification_seed.csv"
    if f.exists():
        for r in read_csv(f):
            rows.append(
                SeedRow(
                    "econ_dept",
                    r["code"].strip(),
                    clean_name(r["name"]),
                    None,
                    None,
                    None,
                    f.name,
                    seed_kind(r.get("evidence", "")),
                )
            )
    f = reference / "gov_economic_classification_seed.csv"
    if f.exists():
        for r in read_csv(f):
            rows.append(
                SeedRow(
                    "econ_gov",
                    r["code"].strip(),
                    clean_name(r["name"]),
                    None,
                    None,
                    None,
                    f.name,
                    seed_kind(r.get("evidence", "")),
                )
            )
    return rows


# --------------------------------------------------------------------------- building eras


@dataclass
class Era:
    name: str
    years: dict = field(default_factory=lambda: defaultdict(set))  # year -> {sources}
    fixed_from: int | None = None
    fixed_to: int | None = None
    evidence: str = DOMAIN
    refs: set = field(default_factory=set)  # seed file names / "domain knowledge"
    valid_from: int | None = None
    valid_to: int | None = None

    def bump(self, evidence: str) -> None:
        if EVIDENCE_RANK[evidence] < EVIDENCE_RANK[self.evidence]:
            self.evidence = evidence

    @property
    def first(self) -> int | None:
        return min(self.years) if self.years else self.fixed_from

    @property
    def last(self) -> int | None:
        return max(self.years) if self.years else self.fixed_to

    def sort_key(self):
        if self.years:
            return (min(self.years), self.name)
        if self.fixed_from is not None:
            return (self.fixed_from, self.name)
        return (-1, self.name)


def build(corpus_obs: list[Obs], seeds: list[SeedRow], notes: list[dict]):
    result: dict[str, dict[str, list[Era]]] = {c: {} for c in CLASSIFICATIONS}

    # ---- 1. corpus observations, same-year conflicts resolved by document support
    by_code: dict[tuple, dict[str, dict[int, set]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    kinds: dict[str, str] = {}
    for o in corpus_obs:
        by_code[(o.classification, o.code)][o.name][o.year].add(o.source)
        kinds[o.source] = o.kind

    for (cls, code), names in sorted(by_code.items()):
        total_support = {n: len({s for ss in ys.values() for s in ss}) for n, ys in names.items()}
        years = sorted({y for ys in names.values() for y in ys})
        for y in years:
            contenders = [n for n in names if y in names[n]]
            if len(contenders) < 2:
                continue

            contenders.sort(
                key=lambda n, y=y, names=names, total=total_support: _strength(
                    names[n][y], total[n], n, kinds
                ),
                reverse=True,
            )
            winner = contenders[0]
            for loser in contenders[1:]:
                notes.append(
                    {
                        "kind": "same_year_conflict",
                        "classification": cls,
                        "code": code,
                        "fiscal_years": str(y),
                        "kept_name": winner,
                        "kept_source": "; ".join(sorted(names[winner][y])),
                        "other_name": loser,
                        "source": "; ".join(sorted(names[loser][y])),
                        "detail": "kept the name printed by more real (then more) documents that year",
                    }
                )
                del names[loser][y]
        eras = [Era(name=n, years=ys, evidence=OBSERVED) for n, ys in names.items() if ys]
        result[cls][code] = eras

    # ---- 2. seeds
    for s in sorted(
        seeds, key=lambda r: (r.classification, r.code, r.era_from or 0, r.era_to or 0, r.name)
    ):
        eras = result[s.classification].setdefault(s.code, [])
        evidence = SEED_OBSERVED if s.kind == "seed_observed" else SEED_UNVERIFIED
        same = [e for e in eras if e.name == s.name]
        if same:
            same[0].refs.add(s.source)
            same[0].bump(evidence)
            if s.era_from is not None and same[0].fixed_from is None:
                same[0].fixed_from = s.era_from
            if s.era_to is not None and same[0].fixed_to is None:
                same[0].fixed_to = s.era_to
            continue
        if s.era_to is not None or s.era_from is not None or not eras:
            # an explicit era, or a code nobody printed: a row of its own
            clash = [e for e in eras if _overlaps(e, s.era_from, s.era_to, s.year)]
            if clash and (s.era_to is not None or s.era_from is not None):
                notes.append(
                    {
                        "kind": "seed_conflict",
                        "classification": s.classification,
                        "code": s.code,
                        "fiscal_years": _era_text(s.era_from, s.era_to),
                        "kept_name": clash[0].name,
                        "kept_source": "corpus",
                        "other_name": s.name,
                        "source": s.source,
                        "detail": "seed era overlaps years printed with another name; seed row dropped",
                    }
                )
                continue
            eras.append(
                Era(
                    name=s.name,
                    fixed_from=s.era_from,
                    fixed_to=s.era_to,
                    evidence=evidence,
                    refs={s.source},
                )
            )
            continue
        notes.append(
            {
                "kind": "seed_conflict",
                "classification": s.classification,
                "code": s.code,
                "fiscal_years": str(s.year) if s.year else "",
                "kept_name": _current(eras).name,
                "kept_source": "corpus",
                "other_name": s.name,
                "source": s.source,
                "detail": "seed name differs from the name the corpora print; seed row dropped",
            }
        )

    # ---- 3. domain knowledge (类 level)
    domain = [("function", c, n, None, None) for c, n in DOMAIN_FUNCTION_CLASSES.items()]
    domain += [("function", c, n, None, 2018) for c, n in DOMAIN_FUNCTION_PRE2019.items()]
    domain += [("econ_dept", c, n, None, None) for c, n in DOMAIN_ECON_DEPT_CLASSES.items()]
    domain += [("econ_gov", c, n, None, None) for c, n in DOMAIN_ECON_GOV_CLASSES.items()]
    for cls, code, name, era_from, era_to in domain:
        eras = result[cls].setdefault(code, [])
        same = [e for e in eras if e.name == name]
        if same:
            same[0].refs.add("domain knowledge")
            continue
        if not eras or (
            era_to is not None and not any(_overlaps(e, era_from, era_to, None) for e in eras)
        ):
            eras.append(
                Era(
                    name=name,
                    fixed_from=era_from,
                    fixed_to=era_to,
                    evidence=DOMAIN,
                    refs={"domain knowledge"},
                )
            )
            continue
        notes.append(
            {
                "kind": "domain_conflict",
                "classification": cls,
                "code": code,
                "fiscal_years": _era_text(era_from, era_to),
                "kept_name": _current(eras).name,
                "kept_source": "corpus/seed",
                "other_name": name,
                "source": "domain knowledge",
                "detail": "domain-knowledge name differs; not used",
            }
        )
    for code, year in DOMAIN_FUNCTION_ADDED.items():
        eras = result["function"].get(code, [])
        if len(eras) == 1 and eras[0].fixed_from is None:
            eras[0].fixed_from = year

    # ---- 4. era boundaries
    for cls, codes in result.items():
        for code, eras in codes.items():
            _assign_eras(cls, code, eras, notes)
    return result


def _strength(sources: set, total_support: int, name: str, kinds: dict) -> tuple:
    """Rank of a name in a same-year conflict: real documents, then documents, then all-year support."""
    real = sum(1 for s in sources if kinds[s] == "real")
    return (real, len(sources), total_support, name)


def _era_text(lo, hi) -> str:
    if lo is None and hi is None:
        return ""
    return f"{lo if lo is not None else ''}-{hi if hi is not None else ''}"


def _overlaps(era: Era, lo: int | None, hi: int | None, year: int | None) -> bool:
    if year is not None:
        lo = hi = year
    a = era.first if era.years else era.fixed_from
    b = era.last if era.years else era.fixed_to
    a = -(10**9) if a is None else a
    b = 10**9 if b is None else b
    lo = -(10**9) if lo is None else lo
    hi = 10**9 if hi is None else hi
    return a <= hi and lo <= b


def _current(eras: list[Era]) -> Era:
    return sorted(eras, key=lambda e: e.sort_key())[-1]


def _assign_eras(cls: str, code: str, eras: list[Era], notes: list[dict]) -> None:
    eras.sort(key=lambda e: e.sort_key())
    for i, era in enumerate(eras):
        era.valid_from = era.fixed_from if i == 0 else None
        era.valid_to = era.fixed_to if i == len(eras) - 1 else None
    for old, new in zip(eras, eras[1:], strict=False):
        if old.years and new.years and max(old.years) >= min(new.years):
            notes.append(
                {
                    "kind": "interleaved_names",
                    "classification": cls,
                    "code": code,
                    "fiscal_years": f"{year_ranges(old.years)} / {year_ranges(new.years)}",
                    "kept_name": new.name,
                    "kept_source": "",
                    "other_name": old.name,
                    "source": "",
                    "detail": "names alternate over the years; boundary set at the newer name's first year",
                }
            )
        if new.fixed_from is not None:
            boundary = new.fixed_from
        elif old.fixed_to is not None and not new.years:
            boundary = old.fixed_to + 1
        else:
            boundary = new.first
            old_last = old.last
            for reform in REFORM_YEARS.get(cls, ()):
                if old_last is not None and boundary is not None and old_last < reform <= boundary:
                    boundary = reform
            if old.fixed_to is not None and old.fixed_to + 1 < boundary:
                boundary = old.fixed_to + 1
        old.valid_to = boundary - 1
        new.valid_from = boundary


# --------------------------------------------------------------------------- output


def source_text(era: Era) -> str:
    parts = []
    if era.years:
        files = sorted({s for ss in era.years.values() for s in ss})
        real = [f for f in files if not f.endswith(".truth.json")]
        dev = [f for f in files if f.endswith(".truth.json")]
        shown = real[:2] + dev[: max(0, 3 - len(real[:2]))]
        more = len(files) - len(shown)
        parts.append(
            f"printed {year_ranges(era.years)}: "
            + ", ".join(shown)
            + (f" +{more} more" if more else "")
        )
    refs = sorted(era.refs)
    seed_refs = [r for r in refs if r != "domain knowledge"]
    if seed_refs:
        parts.append("ref:" + ",".join(seed_refs))
    if "domain knowledge" in refs and era.evidence != OBSERVED:
        parts.append("domain knowledge")
    return "; ".join(parts)


def write_outputs(result, notes, out_dir: Path) -> dict:
    counts = {}
    for cls in CLASSIFICATIONS:
        rows = []
        for code, eras in result[cls].items():
            for era in eras:
                rows.append(
                    {
                        "code": code,
                        "name": era.name,
                        "level": level_of(code),
                        "parent_code": parent_of(code),
                        "valid_from": "" if era.valid_from is None else era.valid_from,
                        "valid_to": "" if era.valid_to is None else era.valid_to,
                        "evidence": era.evidence,
                        "source": source_text(era),
                    }
                )
        rows.sort(key=lambda r: (r["code"], -1 if r["valid_from"] == "" else r["valid_from"]))
        with (out_dir / FILES[cls]).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        counts[cls] = rows
    note_cols = [
        "kind",
        "classification",
        "code",
        "fiscal_years",
        "kept_name",
        "kept_source",
        "other_name",
        "source",
        "detail",
    ]
    notes_sorted = sorted(notes, key=lambda n: tuple(str(n.get(c, "")) for c in note_cols))
    with (out_dir / "conflicts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=note_cols, lineterminator="\n")
        writer.writeheader()
        for n in notes_sorted:
            writer.writerow({c: n.get(c, "") for c in note_cols})
    return counts


def check(result) -> list[str]:
    """Sanity checks: parents exist, no overlapping eras for one code."""
    problems = []
    for cls, codes in result.items():
        for code, eras in codes.items():
            parent = parent_of(code)
            if parent and parent not in codes:
                problems.append(f"{cls} {code}: parent {parent} missing")
            spans = sorted(
                (
                    (-(10**9) if e.valid_from is None else e.valid_from),
                    (10**9 if e.valid_to is None else e.valid_to),
                    e.name,
                )
                for e in eras
            )
            for (_a1, b1, n1), (a2, _b2, n2) in zip(spans, spans[1:], strict=False):
                if a2 <= b1:
                    problems.append(f"{cls} {code}: eras overlap ({n1} / {n2})")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)

    notes: list[dict] = []
    corpus_obs = harvest_dev(args.corpus) + harvest_real(args.corpus, notes)
    seeds = harvest_seeds(args.reference)
    result = build(corpus_obs, seeds, notes)
    counts = write_outputs(result, notes, args.out)
    for cls, rows in counts.items():
        by_ev = defaultdict(int)
        for r in rows:
            by_ev[r["evidence"]] += 1
        print(
            f"{FILES[cls]}: {len(rows)} rows  "
            + "  ".join(f"{k}={by_ev[k]}" for k in EVIDENCE_RANK if by_ev[k])
        )
    print(f"conflicts.csv: {len(notes)} notes")
    for p in check(result):
        print("WARNING:", p, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
