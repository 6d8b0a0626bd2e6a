"""A few columns of every stored ``documents`` row, kept in one file and refreshed by stat.

Every batch asks two questions of the whole curated folder: which documents were read
from this file path (a file whose bytes changed replaces its old rows), and which stored
documents could be the other half of a disclosure published as two files. Reading every
``documents`` Parquet file for that costs ~0.5 ms a file, twice a batch: 2 s in a folder of
2 000 documents, on the way to the first document. The index (``_state/documents-index.json``)
holds those columns with each file's size and modification time; a refresh lists the folder
(one ``scandir``) and reads again only the files that are new or changed, as git's index
does. It is a cache: never trusted without the listing, rebuilt when missing or damaged, and
a folder where it cannot be written still reads correctly (every file, as before).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

INDEX_FILE = "documents-index.json"
INDEX_VERSION = 1
# the columns the index holds: what locating a source and pairing the halves read
INDEX_COLUMNS = (
    "doc_id",
    "sha256",
    "source_path",
    "source_name",
    "n_tables",
    "status",
    "unit_name",
    "fiscal_year",
    "doc_kind",
)


def source_key(path: Path | str) -> str:
    """How a document's file is recorded (``documents.source_path``): its resolved path."""
    return str(Path(path).resolve())


def source_index(curated: Path) -> dict[str, list[str]]:
    """Each stored source path's document ids: read once per batch, so that a document whose
    file changed finds its old rows without every document reading every ``documents`` file
    (before: 2 s a document in a folder of 2 000)."""
    index: dict[str, list[str]] = {}
    for row in indexed_documents(curated):
        if row.get("source_path") and row.get("doc_id"):
            index.setdefault(row["source_path"], []).append(row["doc_id"])
    return index


def indexed_documents(curated: Path) -> list[dict]:
    """``INDEX_COLUMNS`` of every readable stored ``documents`` row, in file-name order."""
    from .state import STATE_DIR

    folder = curated / "documents"
    if not folder.is_dir():
        return []
    index_path = curated / STATE_DIR / INDEX_FILE
    cached = _load(index_path)
    files: dict[str, dict] = {}
    changed = False
    with os.scandir(folder) as entries:
        listing = sorted(
            (entry.name, stat)
            for entry in entries
            if entry.name.endswith(".parquet") and not entry.name.startswith(".")
            if (stat := _stat(entry)) is not None
        )
    for name, stat in listing:
        known = cached.get(name)
        if known and known["mtime_ns"] == stat.st_mtime_ns and known["size"] == stat.st_size:
            files[name] = known
            continue
        from .store import read_rows  # (pyarrow: only when a file is new or changed)

        try:
            rows = read_rows(folder / name, list(INDEX_COLUMNS))
        except Exception:  # a damaged file is not a stored document (as read_all_documents)
            continue
        files[name] = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size, "rows": rows}
        changed = True
    if changed or set(files) != set(cached):
        _save(index_path, files)
    return [row for name in sorted(files) for row in files[name]["rows"]]


def _stat(entry: os.DirEntry) -> os.stat_result | None:
    """A listed file's size and time; None when it went in the meantime (a document removed
    while the folder is read)."""
    try:
        return entry.stat()
    except FileNotFoundError:
        return None


def _load(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    if data.get("columns") != list(INDEX_COLUMNS) or not isinstance(data.get("files"), dict):
        return {}
    return data["files"]


def _save(path: Path, files: dict[str, dict]) -> None:
    """Write then rename (a reader never sees half an index); a folder that cannot be
    written keeps no index, and every batch reads the files again."""
    payload = {"version": INDEX_VERSION, "columns": list(INDEX_COLUMNS), "files": files}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(payload, ensure_ascii=False, default=str), "utf-8")
        os.replace(temporary, path)
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)
