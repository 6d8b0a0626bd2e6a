"""Curated datasets: the schema (single source of truth) and atomic Parquet storage."""
