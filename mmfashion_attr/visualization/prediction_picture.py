"""Prediction pictures in the style of the paper's Figure 6.

Parekh & Shaik (VISAPP 2023), Figure 6: the product image next to the
predicted value of every attribute; with ground truth, correct predictions
are boxed green and wrong ones red, and "-" marks an attribute where no
value crossed the threshold. Drawn with OpenCV only.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

GREEN = (40, 160, 40)
RED = (30, 30, 220)
GREY = (110, 110, 110)
BLACK = (20, 20, 20)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _label_set(values: Sequence[str]) -> set:
    return {v for v in values if not str(v).startswith('?')}


def attribute_verdicts(
    result: dict, gt: Optional[Dict[str, Sequence[str]]]
) -> Dict[str, Optional[bool]]:
    """Per attribute: True (predicted set == labelled set), False, or None
    (no ground truth for it). Values marked unknown (``?value``) are
    ignored on both sides."""
    out: Dict[str, Optional[bool]] = {}
    for name, preds in result.get('attributes', {}).items():
        if gt is None or name not in gt:
            out[name] = None
            continue
        unknown = {v[1:] for v in gt[name] if str(v).startswith('?')}
        pred = {p['value'] for p in preds} - unknown
        out[name] = pred == _label_set(gt[name])
    return out


def _lines(result: dict, max_values: int) -> List[Tuple[str, str]]:
    lines = []
    for name, preds in result.get('attributes', {}).items():
        if preds:
            text = ', '.join(
                f'{p["value"]} {p["score"]:.2f}' for p in preds[:max_values]
            )
            if len(preds) > max_values:
                text += f' (+{len(preds) - max_values})'
        else:
            text = '-'
        lines.append((name, text))
    for name in result.get('not_applicable', []):
        lines.append((name, 'n/a'))
    return lines


def draw_prediction(
    image: np.ndarray,
    result: dict,
    gt: Optional[Dict[str, Sequence[str]]] = None,
    height: int = 256,
    font_scale: float = 0.42,
    max_values: int = 3,
    title: Optional[str] = None,
) -> np.ndarray:
    """The image with its predicted attributes, like the paper's Figure 6.

    Args:
        image: ``H x W x 3`` BGR ``uint8`` image.
        result: One record of :class:`AttributeExtractor`
            (``attributes``, ``abstained``, ``not_applicable``).
        gt: Optional ground truth ``{attribute: [values]}`` (the catalog
            record's ``attributes``; ``?value`` = unknown). Attributes with
            ground truth get a green (correct) or red (wrong) box.
        height: Height the image is scaled to (at least the text's).
        font_scale: OpenCV font scale of the text panel.
        max_values: At most this many values per attribute are written.
        title: First line of the panel. Defaults to the input's name and
            category.

    Returns:
        The picture, BGR ``uint8``.
    """
    verdicts = attribute_verdicts(result, gt)
    lines = _lines(result, max_values)
    if title is None:
        title = os.path.basename(str(result.get('input', '')))[-40:]
        if result.get('category'):
            title += f'  [{result["category"]}]'
    line_h = int(round(34 * font_scale)) + 4
    (tw, _), _ = cv2.getTextSize(title, FONT, font_scale, 1)
    width = (
        max(
            [tw]
            + [
                cv2.getTextSize(f'{n}: {t}', FONT, font_scale, 1)[0][0]
                for n, t in lines
            ]
        )
        + 16
    )
    text_h = line_h * (len(lines) + 2) + 8
    height = max(height, text_h)
    h, w = image.shape[:2]
    img_w = max(1, int(round(w * height / h)))
    img = cv2.resize(
        image,
        (img_w, height),
        interpolation=cv2.INTER_AREA if height < h else cv2.INTER_LINEAR,
    )
    canvas = np.full((height, img_w + width, 3), 255, np.uint8)
    canvas[:, :img_w] = img
    x0 = img_w + 8
    y = line_h
    cv2.putText(
        canvas, title, (x0, y), FONT, font_scale, BLACK, 1, cv2.LINE_AA
    )
    y += line_h // 2
    for name, text in lines:
        y += line_h
        verdict = verdicts.get(name)
        colour = BLACK if text not in ('-', 'n/a') else GREY
        cv2.putText(
            canvas,
            f'{name}: {text}',
            (x0, y),
            FONT,
            font_scale,
            colour,
            1,
            cv2.LINE_AA,
        )
        if verdict is not None:
            (lw, lh), _ = cv2.getTextSize(
                f'{name}: {text}', FONT, font_scale, 1
            )
            cv2.rectangle(
                canvas,
                (x0 - 4, y - lh - 4),
                (x0 + lw + 4, y + 5),
                GREEN if verdict else RED,
                2,
            )
    return canvas


def stack_pictures(
    pictures: Sequence[np.ndarray], columns: int = 2, pad: int = 6
) -> np.ndarray:
    """Tile pictures of any size into one grid (white background)."""
    if not pictures:
        raise ValueError('no picture to stack')
    rows = [
        pictures[i : i + columns] for i in range(0, len(pictures), columns)
    ]
    cell_h = max(p.shape[0] for p in pictures)
    cell_w = max(p.shape[1] for p in pictures)
    out = np.full(
        (len(rows) * (cell_h + pad) + pad, columns * (cell_w + pad) + pad, 3),
        255,
        np.uint8,
    )
    for r, row in enumerate(rows):
        for c, p in enumerate(row):
            y, x = pad + r * (cell_h + pad), pad + c * (cell_w + pad)
            out[y : y + p.shape[0], x : x + p.shape[1]] = p
    return out
