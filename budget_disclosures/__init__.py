"""budget-disclosures: government budget-disclosure PDFs into curated, validated open datasets.

The one import package the project installs. Its subpackages are the repository's top-level
folders, mapped by ``pyproject.toml`` (``package-dir``), one per room of the pipeline:
``extractors`` → ``mappings`` → ``validation`` → ``curation``, wired by ``flows``. Nothing is
installed under a generic top-level name (a Prefect project's own ``flows`` stays its own).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("budget-disclosures")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0.0.0"
