"""Prefect wiring (flows, tasks, CLI) and the plain-Python per-document pipeline."""
