"""Textures and colours of the garments: the ``pattern`` attribute.

Periods and dot sizes never go below a few output pixels, so what is
labelled is visible at the chosen image size.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .vocabulary import COLOURS


def bgr(rgb) -> np.ndarray:
    """An RGB triple as a float32 BGR colour."""
    return np.array(rgb[::-1], dtype=np.float32)


def jitter_colour(rng, name: str) -> np.ndarray:
    """The BGR colour ``name``, jittered by up to 12 per channel."""
    c = bgr(COLOURS[name]) + rng.uniform(-12, 12, 3).astype(np.float32)
    return np.clip(c, 0, 255)


def contrast_colour(c: np.ndarray) -> np.ndarray:
    """A shade of ``c`` that stands out against it."""
    lum = 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]
    if lum < 100:
        return c + (255 - c) * 0.55
    return c * 0.42


def pattern_index(
    pattern: str,
    h: int,
    w: int,
    period: float,
    min_feature: float,
    n_colours: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``int[h, w]`` colour index map (0: main colour, 1.. pattern colours).

    Args:
        pattern: One of :data:`PATTERNS`.
        h: Height in pixels.
        w: Width in pixels.
        period: Repeat of the pattern in pixels.
        min_feature: Smallest radius of a dot / petal in pixels.
        n_colours: Number of colours (1 + pattern colours).
        rng: Random generator (phases, flower positions).
    """
    idx = np.zeros((h, w), np.uint8)
    if pattern == 'solid' or h == 0 or w == 0:
        return idx
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy += float(rng.uniform(0, period))
    xx += float(rng.uniform(0, period))
    half = period / 2.0

    def bands(u):
        k = np.floor(u / half).astype(np.int64)
        out = (k % 2).astype(np.uint8)  # 0 main, 1 pattern
        if n_colours >= 3:
            third = (k % 4) == 3
            out[third] = 2
        return out

    if pattern == 'stripes_h':
        return bands(yy)
    if pattern == 'stripes_v':
        return bands(xx)
    if pattern == 'diagonal':
        return bands((xx + yy) / math.sqrt(2.0))
    if pattern == 'zigzag':
        zp = period * 1.3
        tri = np.abs(((xx / zp) % 1.0) - 0.5) * 2.0  # 0..1
        return bands(yy + tri * period * 0.9)
    if pattern == 'checks':
        k = np.floor(xx / half).astype(np.int64) + np.floor(yy / half).astype(
            np.int64
        )
        return (k % 2).astype(np.uint8)
    if pattern == 'dots':
        r = max(0.24 * period, min_feature)
        row = np.floor(yy / period)
        sx = (xx + (row % 2) * half) % period - half
        sy = yy % period - half
        return (sx * sx + sy * sy <= r * r).astype(np.uint8)
    if pattern == 'floral':
        pr = max(0.17 * period, min_feature)
        step = period * 1.7
        lay = np.zeros((h, w), np.uint8)
        ys = np.arange(-step, h + step, step)
        xs = np.arange(-step, w + step, step)
        for yi, y0 in enumerate(ys):
            for x0 in xs:
                cx = x0 + (yi % 2) * step / 2 + rng.uniform(-0.2, 0.2) * step
                cy = y0 + rng.uniform(-0.2, 0.2) * step
                rot = rng.uniform(0, 2 * math.pi)
                for p in range(5):
                    ang = rot + p * 2 * math.pi / 5
                    px = int(round(cx + 1.05 * pr * math.cos(ang)))
                    py = int(round(cy + 1.05 * pr * math.sin(ang)))
                    cv2.circle(lay, (px, py), int(round(pr)), 1, -1)
                cv2.circle(
                    lay,
                    (int(round(cx)), int(round(cy))),
                    max(1, int(round(pr * 0.55))),
                    0,
                    -1,
                )
        return lay
    raise ValueError(f'unknown pattern {pattern!r}')
