"""Issue 17: the review site's cost, and the README's screenshots.

    python -m benchmarks.review --curated DIR [--out DIR] [--screenshots DIR]

Builds the review site of every document in ``--curated`` twice (the first run renders the
page images, the second reuses them) and reports documents, page images, seconds per page
and the size of the site. With ``--screenshots``, headless Chromium photographs the index and
the first document with a highlighted finding: its findings, then the page where the
finding's cell is highlighted (``review-index.png``, ``review-document.png``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from budget_disclosures.curation.review import build_site  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
HIGHLIGHT = (255, 190, 155)  # a finding's cell: #ff5a00 at 35 % over white


def screenshot(url: str, target: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=4000",
                f"--window-size={width},{height}",
                f"--screenshot={target}",
                url,
            ],
            capture_output=True,
            check=True,
            timeout=180,
        )


def document_with_highlight(site: Path) -> Path | None:
    """The first document page with a finding's cell drawn (failed documents first)."""
    pages = sorted(site.glob("*.html"))
    return next((p for p in pages if 'data-finding="' in p.read_text(encoding="utf-8")), None)


def document_shot(page: Path, target: Path) -> None:
    """The findings at the top, then the page where the first highlight is (one image)."""
    import numpy as np
    from PIL import Image

    full = target.with_suffix(".full.png")
    screenshot(page.resolve().as_uri(), full, 1500, 14000)
    image = Image.open(full).convert("RGB")
    array = np.asarray(image.crop((0, 0, 790, image.height))).astype(int)
    close = np.all(np.abs(array - np.array(HIGHLIGHT)) <= 30, axis=-1)
    rows = np.nonzero(close.any(axis=1))[0]
    rows = rows[rows > 600]  # below the legend's swatch
    top = image.crop((0, 0, 1500, 430))
    centre = int(rows[0]) if len(rows) else 900
    detail = image.crop((0, max(centre - 420, 430), 1500, centre + 280))
    joined = Image.new("RGB", (1500, top.height + detail.height + 6), "white")
    joined.paste(top, (0, 0))
    joined.paste(detail, (0, top.height + 6))
    joined.save(target, optimize=True)
    full.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.review", description=__doc__)
    ap.add_argument("--curated", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/review"))
    ap.add_argument("--screenshots", type=Path, help="write the README's two screenshots here")
    args = ap.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    first = build_site(args.curated, args.out)
    again = build_site(args.curated, args.out)
    per_page = first.seconds / max(first.pages, 1)
    print(
        f"{first.documents} documents, {first.pages} page images; first run {first.seconds} s "
        f"({per_page:.3f} s per page), second run {again.seconds} s (images reused); "
        f"site {first.bytes / 1e6:.1f} MB ({first.bytes / max(first.pages, 1) / 1e3:.0f} KB "
        f"per page image)"
    )
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        screenshot(
            (args.out / "index.html").resolve().as_uri(),
            args.screenshots / "review-index.png",
            1400,
            520,
        )
        page = document_with_highlight(args.out)
        if page is not None:
            document_shot(page, args.screenshots / "review-document.png")
        print(f"screenshots in {args.screenshots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
