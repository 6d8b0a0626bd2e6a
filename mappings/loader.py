"""Load the rule files of ``mappings/`` into validated, frozen models.

Templates are discovered from a folder, so adding a template is adding a YAML file; a test
loads templates from a temporary folder to prove it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from .models import FormVocabulary, Lexicon, SummaryRows, Template, Vocabulary
from .settings import TEMPLATES_ENV, templates_enabled  # noqa: F401  (re-exported)

MAPPINGS_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = MAPPINGS_DIR / "templates"


def load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def load_templates(folder: Path = TEMPLATES_DIR) -> tuple[Template, ...]:
    """Every ``*.yml`` template in ``folder``, validated; ids must be unique."""
    templates = []
    for path in sorted(folder.glob("*.yml")):
        try:
            templates.append(Template.model_validate(load_yaml(path)))
        except Exception as error:
            raise ValueError(f"{path.name}: {error}") from error
    ids = [t.id for t in templates]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate template ids: {sorted(duplicates)}")
    return tuple(templates)


@lru_cache(maxsize=4)
def default_templates() -> tuple[Template, ...]:
    return load_templates(TEMPLATES_DIR)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary.model_validate(load_yaml(MAPPINGS_DIR / "vocabulary.yml"))


@lru_cache(maxsize=1)
def form_vocabulary() -> FormVocabulary:
    return FormVocabulary.model_validate(load_yaml(MAPPINGS_DIR / "forms.yml"))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon.model_validate(load_yaml(MAPPINGS_DIR / "lexicon.yml"))


@lru_cache(maxsize=1)
def generic_template() -> Template:
    """The generic reading path: the national lexicon as a template (see ``lexicon.yml``)."""
    return lexicon().as_template()


@lru_cache(maxsize=1)
def summary_rows() -> SummaryRows:
    """The summary tables' named rows that validation's arithmetic reads."""
    return SummaryRows.model_validate(load_yaml(MAPPINGS_DIR / "summary_rows.yml"))
