"""Reading settings taken from the environment, importable without the rule models (the
command reads them before it imports anything heavy)."""

from __future__ import annotations

import os

TEMPLATES_ENV = "BUDGET_DISCLOSURES_TEMPLATES"  # "off": the generic reading path alone


def templates_enabled() -> bool:
    """Family templates refine the generic reading unless ``BUDGET_DISCLOSURES_TEMPLATES`` is
    off/0/false/no (the ablation that shows what the generic path reads on its own)."""
    return os.environ.get(TEMPLATES_ENV, "on").strip().lower() not in {"off", "0", "false", "no"}
