"""Preloaded by the forkserver: import the pipeline and warm its caches (see isolation)."""

from budget_disclosures.flows import pipeline

pipeline.warm_up()
