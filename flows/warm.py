"""Preloaded by the forkserver: import the pipeline and warm its caches (see isolation).

Then ``gc.freeze()``: the warm modules' objects move to the permanent generation, so the
collector in each document process (forked from here) never scans them — without it a
document paid ~0.04 s of garbage collection over the preloaded objects (measured on the
dev documents), and its pages stay shared with the forkserver instead of being copied when
the collector touches their reference counts.
"""

import gc

from budget_disclosures.flows import isolation, pipeline  # noqa: F401  (isolation: _child's home)

pipeline.warm_up()
gc.freeze()
