"""Stated figures (facts) in the paragraphs, by the declarative patterns of ``facts.yml``.

Split from ``mappings/narrative.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from budget_disclosures.extractors.numbers import MONEY_UNIT_FACTORS

from .models import FactRule, FactVocabulary
from .narrative_paragraphs import (
    Paragraph,
)

# --------------------------------------------------------------------------- facts

FACTS_FILE = "facts.yml"
_MACRO = re.compile(r"\{(money|count|pct|dir|steady):([a-z0-9_]+)\}")
_DIGITS = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
_UNIT_FACTORS = MONEY_UNIT_FACTORS


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: FactRule
    regexes: tuple[re.Pattern[str], ...]
    index: int


@dataclass(frozen=True, slots=True)
class FactPatterns:
    """``mappings/facts.yml`` loaded and compiled."""

    vocabulary: FactVocabulary
    rules: tuple[CompiledRule, ...]


def _expand(pattern: str, defines: dict[str, str]) -> str:
    def macro(match: re.Match[str]) -> str:
        kind, fact = match.groups()
        if kind == "money":
            return rf"(?P<v_{fact}>{{NUM}})\s*(?P<u_{fact}>{{UNIT}})"
        if kind == "count":
            return rf"(?P<v_{fact}>[0-9]+)"
        if kind == "pct":
            return rf"(?P<v_{fact}>{{NUM}})\s*[%％]"
        if kind == "dir":
            return rf"(?P<d_{fact}>{{DIR}})"
        return rf"(?:基本)?(?P<s_{fact}>{{STEADY}})"

    pattern = _MACRO.sub(macro, pattern)
    for _ in range(3):  # defines may use defines
        for name, value in defines.items():
            pattern = pattern.replace("{" + name + "}", value)
    return pattern


def load_fact_patterns(path: str | None = None) -> FactPatterns:
    """Load, validate and compile the fact rules; a group naming an unknown fact fails."""
    from pathlib import Path

    from .loader import MAPPINGS_DIR, load_yaml

    source = Path(path) if path else MAPPINGS_DIR / FACTS_FILE
    vocabulary = FactVocabulary.model_validate(load_yaml(source))
    words = sorted(
        ("增加", "增长", "上升", "提高", "上调", "增", *vocabulary.decrease_words),
        key=len,
        reverse=True,
    )
    defines = {
        **vocabulary.defines,
        "DIR": "|".join(map(re.escape, words)),
        "STEADY": "|".join(map(re.escape, vocabulary.steady_words or ["持平"])),
    }
    compiled = []
    for index, rule in enumerate(vocabulary.rules):
        regexes = []
        for pattern in rule.patterns:
            try:
                regex = re.compile(_expand(pattern, defines))
            except re.error as error:
                raise ValueError(f"{source.name}: rule {index} ({rule.note}): {error}") from error
            facts = {name[2:] for name in regex.groupindex if name[:2] in ("v_", "u_", "d_", "s_")}
            unknown = (facts | set(rule.constant)) - set(vocabulary.facts)
            if unknown:
                raise ValueError(
                    f"{source.name}: rule {index} ({rule.note}) names unknown facts {sorted(unknown)}"
                )
            if not facts and not rule.constant:
                raise ValueError(f"{source.name}: rule {index} ({rule.note}) states no fact")
            regexes.append(regex)
        compiled.append(CompiledRule(rule, tuple(regexes), index))
    return FactPatterns(vocabulary, tuple(compiled))


@lru_cache(maxsize=1)
def default_fact_patterns() -> FactPatterns:
    return load_fact_patterns()


def _sentence(text: str, start: int, end: int, limit: int = 200) -> str:
    """The paragraph, or (when it is long) the sentences the match spans."""
    if len(text) <= limit:
        return text
    left = max(text.rfind("。", 0, start), text.rfind("；", 0, start)) + 1
    right = text.find("。", end)
    return text[left : len(text) if right < 0 else right + 1]


def _number(printed: str) -> float:
    return float(printed.replace(",", ""))


def _item_of(match: re.Match[str]) -> tuple[str | None, str | None]:
    groups = match.groupdict()
    code = "".join(groups[k] for k in ("code", "code1", "code2", "code3") if groups.get(k)) or None
    names = [groups[k] for k in ("item1", "item2", "item") if groups.get(k)]
    names = [
        re.sub(r"^(?:[（(]?\d{1,2}[)）.、．]|其中[：:]|[“”\".．、\s])+", "", n).strip()
        for n in names
    ]
    if code or len(names) <= 1:
        return (names[-1] if names else None) or None, code
    return "/".join(names), None  # no code printed: the 类/款/项 names say which line


def extract_facts(
    doc_id: str, paragraphs: list[Paragraph], patterns: FactPatterns | None = None
) -> list[dict]:
    """``facts`` rows: the figures the narrative states (rules in ``mappings/facts.yml``)."""
    patterns = patterns or default_fact_patterns()
    vocabulary = patterns.vocabulary
    decrease = tuple(vocabulary.decrease_words)
    best: dict[str, tuple[tuple[int, int, int], dict]] = {}
    items: list[dict] = []
    seen_items: set[tuple] = set()
    order = 0
    for paragraph in paragraphs:
        text = paragraph.text.translate(_DIGITS)
        for compiled in patterns.rules:
            rule = compiled.rule
            if rule.requires and not any(word in text for word in rule.requires):
                continue
            if rule.excludes and any(word in text for word in rule.excludes):
                continue
            for regex in compiled.regexes:
                for match in regex.finditer(text):
                    order += 1
                    rows = _facts_of(match, rule, vocabulary, decrease, paragraph, text)
                    if rule.repeat:
                        item, code = _item_of(match)
                        for row in rows:
                            key = (row["fact"], code, item, row["value"])
                            if key not in seen_items:
                                seen_items.add(key)
                                items.append({**row, "item": item, "code": code})
                        continue
                    for row in rows:
                        rank = (rule.rank, order, 0)
                        if row["fact"] not in best or rank < best[row["fact"]][0]:
                            best[row["fact"]] = (rank, row)
                    if rows:
                        break  # first match of this pattern in the paragraph
    rows = [row for _rank, row in sorted(best.values(), key=lambda pair: pair[0][1])] + items
    money_units = Counter(r["unit"] for r in rows if r["unit"] in _UNIT_FACTORS)
    default_unit = money_units.most_common(1)[0][0] if money_units else "元"
    out = []
    for row in rows:
        definition = vocabulary.facts[row["fact"]]
        if definition.kind == "money" and row["unit"] is None:
            row["unit"] = default_unit  # a figure stated as none (无政府采购预算): 0 in any unit
        unit = row["unit"]
        out.append(
            {
                "doc_id": doc_id,
                "fact": row["fact"],
                "value": row["value"],
                "unit": unit,
                "sentence": row["sentence"],
                "page": row["page"],
                "family": definition.family,
                "value_yuan": round(row["value"] * _UNIT_FACTORS[unit], 2)
                if definition.kind == "money"
                else None,
                "item": row.get("item"),
                "code": row.get("code"),
            }
        )
    return out


def _facts_of(match, rule, vocabulary, decrease, paragraph: Paragraph, text: str) -> list[dict]:
    groups = match.groupdict()
    sentence = _sentence(paragraph.text, match.start(), match.end())
    page = paragraph.page_at(match.start())
    rows = []
    facts = {
        name[2:] for name, value in groups.items() if value is not None and name[:2] in ("v_", "s_")
    }
    for fact in sorted(
        facts,
        key=lambda f: match.start("v_" + f) if groups.get("v_" + f) else match.start("s_" + f),
    ):
        definition = vocabulary.facts[fact]
        if groups.get(f"v_{fact}") is not None:
            value = _number(groups[f"v_{fact}"])
            direction = groups.get(f"d_{fact}")
            if direction and direction.startswith(decrease):
                value = -value
        else:
            value = 0.0
        unit = groups.get(f"u_{fact}") or definition.unit
        if definition.kind == "count":
            value = float(int(value))
        rows.append(
            {"fact": fact, "value": value + 0.0, "unit": unit, "sentence": sentence, "page": page}
        )  # no -0.0
    for fact, value in rule.constant.items():
        rows.append(
            {
                "fact": fact,
                "value": float(value),
                "unit": vocabulary.facts[fact].unit,
                "sentence": sentence,
                "page": page,
            }
        )
    return rows
