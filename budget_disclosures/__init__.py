"""budget-disclosures: government budget-disclosure PDFs into curated, validated open datasets.

The one import package the project installs. Its subpackages are the repository's top-level
folders, mapped by ``pyproject.toml`` (``package-dir``), one per room of the pipeline:
``extractors`` → ``mappings`` → ``validation`` → ``curation``, wired by ``flows``. Nothing is
installed under a generic top-level name (a Prefect project's own ``flows`` stays its own).

``__version__`` is read from the installed distribution when first asked for: reading it
(``importlib.metadata``) took ~25 ms, paid by every command at its first import of the
package, before it could hand its ingest to the flow host.
"""


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("budget-disclosures")
    except PackageNotFoundError:  # running from a checkout without an install
        value = "0.0.0"
    globals()["__version__"] = value
    return value
