"""Ruled lines, skew and orientation of a page *image* (scans), with OpenCV morphology.

The same idea as camelot's lattice mode on images: binarise, keep only long horizontal or
vertical runs of ink (a morphological opening with a long thin kernel), and read each run
as a :class:`~extractors.base.Rule`.  The rules are returned in PDF points (top-left origin)
so that :mod:`extractors.grid` builds a scanned table's cells exactly as it builds a text
table's.

Nothing here knows about OCR or budgets; every function takes and returns plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .base import Rule
from .document import MIN_RULE_LENGTH, _merge_rules

# Horizontal rules are at least this long (inches): longer than any glyph stroke, dash or
# run of strokes in a line of text.
H_KERNEL_INCH = 0.4
# Vertical rules: longer than a glyph's vertical stroke at body-text sizes, shorter than a
# table row (a row is ~0.28 in; a 12 pt glyph stroke is ~0.15 in).
V_KERNEL_INCH = 0.17
# A real vertical rule meets a horizontal rule within this distance (inches).
V_TOUCH_INCH = 0.04
# Skew angles searched by the projection profile (degrees).
MAX_SKEW = 3.0


@dataclass(slots=True)
class PageLines:
    """Rules found in an image, in points, and the ink mask of the rules (image pixels)."""

    rules: list[Rule]
    mask: np.ndarray


def binarize(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Ink as 255 on 0, robust to uneven scan backgrounds (local mean threshold)."""
    block = max(15, int(dpi * 0.2)) | 1
    return cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 20
    )


def _long_runs(binary: np.ndarray, length: int, horizontal: bool) -> np.ndarray:
    shape = (length, 1) if horizontal else (1, length)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, shape)
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)


def _line_angles(h_mask: np.ndarray, min_length: int) -> list[tuple[float, float]]:
    """(angle in degrees, length) of each long horizontal run, by a least-squares line fit."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(h_mask, connectivity=8)
    out = []
    for index in range(1, n):
        x, y, w, h, _area = stats[index]
        if w < min_length or h > w * 0.1:
            continue
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == index)
        if len(xs) < 10:
            continue
        vx, vy, _, _ = cv2.fitLine(
            np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01
        ).ravel()
        if vx < 0:
            vx, vy = -vx, -vy
        out.append((float(np.degrees(np.arctan2(vy, vx))), float(w)))
    return out


def _profile_score(small: np.ndarray, angle: float) -> float:
    h, w = small.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_NEAREST)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.square(np.diff(rows)).sum())


def estimate_skew(binary: np.ndarray, dpi: float) -> float:
    """The angle (degrees, counter-clockwise positive as in OpenCV) that makes the page level.

    Long ruled lines give it to a hundredth of a degree; pages without them fall back on the
    projection profile of the text lines (sharpest row profile wins).
    """
    min_length = int(binary.shape[1] * 0.3)
    h_mask = _long_runs(binary, max(int(dpi * H_KERNEL_INCH), 20), horizontal=True)
    angles = _line_angles(h_mask, min_length)
    if len(angles) >= 2:
        values = np.array([a for a, _ in angles])
        weights = np.array([w for _, w in angles])
        median = float(np.median(values))
        keep = np.abs(values - median) < 0.3
        angle = float(np.average(values[keep], weights=weights[keep]))
        # a line descending to the right (positive slope, y down) needs a CCW turn
        return angle if abs(angle) <= MAX_SKEW else 0.0
    factor = min(1.0, 1000.0 / max(binary.shape))
    small = cv2.resize(binary, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-6, 0.25)
    best = float(coarse[int(np.argmax([_profile_score(small, a) for a in coarse]))])
    fine = np.arange(best - 0.25, best + 0.25 + 1e-6, 0.05)
    return float(fine[int(np.argmax([_profile_score(small, a) for a in fine]))])


def rotate(image: np.ndarray, angle: float, fill: int = 255) -> np.ndarray:
    """Rotate about the centre by ``angle`` degrees (counter-clockwise), same canvas size."""
    if abs(angle) < 0.02:
        return image
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = (fill, fill, fill) if image.ndim == 3 else fill
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def text_axis_vertical(binary: np.ndarray) -> bool:
    """True when the text runs top-to-bottom (a page scanned or placed a quarter-turn off).

    Text lines make ink runs that are long horizontally; smearing the ink along each axis
    and comparing how much of it joins into wide blobs tells the two apart.
    """
    factor = min(1.0, 800.0 / max(binary.shape))
    small = cv2.resize(binary, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small = (small > 40).astype(np.uint8) * 255

    def elongation(img: np.ndarray) -> float:
        smeared = cv2.dilate(img, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
        n, _, stats, _ = cv2.connectedComponentsWithStats(smeared)
        ratios = [
            w / max(h, 1) for _x, _y, w, h, a in stats[1:] if a > 20 and h < img.shape[0] * 0.1
        ]
        return float(np.median(ratios)) if ratios else 1.0

    return elongation(np.ascontiguousarray(small.T)) > 1.5 * elongation(small)


def find_lines(binary: np.ndarray, dpi: float) -> PageLines:
    """Horizontal and vertical rules of a level page image, in points (top-left origin)."""
    scale = dpi / 72.0
    h_mask = _long_runs(binary, max(int(dpi * H_KERNEL_INCH), 20), horizontal=True)
    v_mask = _long_runs(binary, max(int(dpi * V_KERNEL_INCH), 15), horizontal=False)
    rules: list[Rule] = []
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(h_mask, connectivity=8)
    h_boxes = []
    for x, y, w, h, _area in stats[1:]:
        if w < h * 4:
            continue
        h_boxes.append((x, y, w, h))
        rules.append(Rule("h", (y + h / 2) / scale, x / scale, (x + w) / scale))
    touch = max(int(dpi * V_TOUCH_INCH), 3)
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(v_mask, connectivity=8)
    kept_v = np.zeros_like(v_mask)
    for index, (x, y, w, h, _area) in enumerate(stats[1:], start=1):
        if h < w * 4:
            continue
        xc = x + w / 2
        # glyph strokes stand alone; a table's vertical rule meets a horizontal one
        meets = any(
            hx - touch <= xc <= hx + hw + touch and y - touch <= hy + hh / 2 <= y + h + touch
            for hx, hy, hw, hh in h_boxes
        )
        if not meets:
            continue
        kept_v[_labels == index] = 255
        rules.append(Rule("v", xc / scale, y / scale, (y + h) / scale))
    rules = [r for r in rules if r.end - r.start >= MIN_RULE_LENGTH]
    mask = cv2.dilate(h_mask | kept_v, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    return PageLines(_merge_rules(rules), mask)
