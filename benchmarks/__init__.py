"""Accuracy and speed benchmarks for budget-disclosures.

- ``benchmarks.score``: score ``curated/`` datasets against the dev corpus truth files.
- ``benchmarks.speed``: plain pdfplumber ``extract_tables()`` baseline (pages/second).
- ``benchmarks.run``: ingest a corpus with the project CLI, time it, compare, score.
- ``benchmarks.selftest``: quick check that truth-derived datasets score 1.0.
"""
