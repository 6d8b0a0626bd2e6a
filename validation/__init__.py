"""Validation: the expectation suites that gate extraction before publication.

``validate_rows`` (per document, at ingest; no GX import) and ``validation.gx`` (GX Core over
the whole store, ``disclosures validate``) run the same suite files, ``validation/suites``.
"""

from .checks import CHECKS, CHECKS_BY_ID, ERROR, WARN, Check
from .engine import Report, validate_rows

__all__ = ["CHECKS", "CHECKS_BY_ID", "ERROR", "WARN", "Check", "Report", "validate_rows"]
