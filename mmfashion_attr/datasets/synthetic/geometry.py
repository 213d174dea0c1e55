"""Garment geometry: silhouettes, necklines, sleeves, in garment units.

A garment is drawn from polygons in *garment units* (origin at the neck or
waist centre, y down, a regular top about 0.5 long); the drawing scales
them to pixels. Every size is jittered by the sample's rendering random
stream, in a fixed order, so a sample is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from .specs import GarmentSpec
from .vocabulary import TOPS


@dataclass
class GarmentShape:
    """A garment's geometry in garment units (origin at the neck / waist
    centre, y down)."""

    parts: List[np.ndarray]  # filled polygons (the silhouette)
    lines: List[np.ndarray]  # seams, cuffs, pockets (open polylines)
    closed_lines: List[np.ndarray]  # closed outlines (pocket flaps)
    neck_open: Optional[np.ndarray]  # neckline opening polygon
    neck_lines: List[np.ndarray]  # neckline outlines (closed)
    neck_fill: List[np.ndarray]  # collar flaps filled with the main colour
    closure_x: float
    closure_y: Tuple[float, float]  # where a full closure runs
    waist_closure: bool  # bottoms: button on the waistband, fly zip


def _mirror(right: List[Tuple[float, float]]) -> np.ndarray:
    """A symmetric polygon from its right half (top centre to bottom
    centre)."""
    left = [(-x, y) for x, y in reversed(right)]
    return np.array(right + left, dtype=np.float64)


def _sleeve(s, a, theta_deg, length, width, sign) -> np.ndarray:
    th = math.radians(theta_deg)
    d = np.array([math.cos(th), math.sin(th)])
    n = np.array([-math.sin(th), math.cos(th)])
    s, a = np.array(s, float), np.array(a, float)
    e_top = s + length * d
    e_bot = e_top + width * n
    poly = np.stack([s, e_top, e_bot, a])
    poly[:, 0] *= sign
    return poly


def _cuff(s, theta_deg, length, width, sign, inset=0.045) -> np.ndarray:
    th = math.radians(theta_deg)
    d = np.array([math.cos(th), math.sin(th)])
    n = np.array([-math.sin(th), math.cos(th)])
    p0 = np.array(s, float) + (length - inset) * d
    p1 = p0 + width * n
    seg = np.stack([p0, p1])
    seg[:, 0] *= sign
    return seg


def _neck_geometry(neck: str, a: float):
    """Opening polygon, outlines, filled flaps, extra silhouette parts and
    the neckline depth, for a neckline of half width ``a``."""
    opening = None
    outlines: List[np.ndarray] = []
    fills: List[np.ndarray] = []
    extra: List[np.ndarray] = []
    if neck == 'round':
        opening = _half_ellipse(a, 0.62 * a)
        depth = 0.62 * a
    elif neck == 'v_neck':
        opening = np.array(
            [(-0.85 * a, -0.01), (0.85 * a, -0.01), (0.0, 1.45 * a)]
        )
        depth = 1.45 * a
    elif neck == 'square':
        w, h = 0.78 * a, 0.78 * a
        opening = np.array([(-w, -0.01), (w, -0.01), (w, h), (-w, h)])
        depth = h
    elif neck == 'boat':
        opening = _half_ellipse(1.45 * a, 0.3 * a)
        depth = 0.3 * a
    elif neck == 'collar':
        opening = _half_ellipse(0.8 * a, 0.5 * a)
        stand = np.array(
            [
                (-0.85 * a, -0.22 * a),
                (0.85 * a, -0.22 * a),
                (0.85 * a, 0.01),
                (-0.85 * a, 0.01),
            ]
        )
        extra.append(stand)
        outlines.append(stand)
        right = np.array(
            [
                (0.08 * a, 0.3 * a),
                (0.85 * a, -0.18 * a),
                (1.15 * a, 0.55 * a),
                (0.3 * a, 1.0 * a),
            ]
        )
        left = right * np.array([-1.0, 1.0])
        fills += [right, left]
        depth = 1.0 * a
    elif neck == 'turtle':
        band = np.array(
            [
                (-0.85 * a, -0.6 * a),
                (0.85 * a, -0.6 * a),
                (0.85 * a, 0.02),
                (-0.85 * a, 0.02),
            ]
        )
        extra.append(band)
        outlines.append(band)
        for f in (-0.4, -0.2):  # ribs
            outlines.append(np.array([(-0.85 * a, f * a), (0.85 * a, f * a)]))
        depth = 0.02
    else:
        raise ValueError(f'unknown neck type {neck!r}')
    if opening is not None:
        outlines.append(opening)
    return opening, outlines, fills, extra, depth


def _half_ellipse(ax: float, ay: float, n: int = 16) -> np.ndarray:
    t = np.linspace(0, math.pi, n)
    pts = np.stack([ax * np.cos(t), ay * np.sin(t) - 0.01], 1)
    return pts


# ``j(s)``: a uniform jitter in ``[-s, s)`` from the rendering stream.
Jitter = Callable[[float], float]


def garment_shape(
    spec: GarmentSpec, rng: np.random.Generator, detail_scale: float = 1.0
) -> GarmentShape:
    """The geometry of a garment in garment units (jittered by ``rng``)."""
    j = lambda s: float(rng.uniform(-s, s))  # noqa: E731
    a = 0.085 * detail_scale * (1 + j(0.15))
    neck = (None, [], [], [], 0.0)
    if spec.neck_type is not None:
        neck = _neck_geometry(spec.neck_type, a)
    if spec.category in TOPS or spec.category == 'dress':
        return _upper_garment_shape(spec, j, *neck)
    return _lower_garment_shape(spec, j, neck[3])


def _upper_garment_shape(
    spec: GarmentSpec,
    j: Jitter,
    neck_open: Optional[np.ndarray],
    neck_lines: List[np.ndarray],
    neck_fill: List[np.ndarray],
    extra: List[np.ndarray],
    depth: float,
) -> GarmentShape:
    """Tops and dresses: torso (with category cues) and sleeves."""
    cat = spec.category
    parts: List[np.ndarray] = list(extra)
    lines: List[np.ndarray] = []
    closed: List[np.ndarray] = []
    sleeveless = spec.sleeve_length == 'sleeveless'
    if cat == 'dress':
        sw = 0.17 + j(0.01)
        drop, ay, ax = 0.04, 0.17, 0.15 + j(0.008)
        nw = 0.095
    else:
        sw = dict(shirt=0.20, jacket=0.245).get(cat, 0.22) + j(0.012)
        drop = 0.05
        ay = 0.21 if cat == 'jacket' else 0.19
        bw = dict(shirt=0.195, jacket=0.235).get(cat, 0.21) + j(0.01)
        ax = bw * 0.98
        nw = 0.1
    if sleeveless:
        sw *= 0.8
    right = [(nw, 0.0), (sw, drop)]
    if sleeveless:
        right.append((ax - 0.045, (drop + ay) / 2 + 0.01))
    right.append((ax, ay))
    if cat == 'dress':
        waist = 0.30
        ww = 0.125 + j(0.006)
        length = dict(mini=0.62, midi=0.85, maxi=1.1)[spec.length]
        length += j(0.02)
        hw = ww + 0.09 + (length - waist) * (0.14 + j(0.02))
        right += [
            (ww, waist),
            (hw, length - 0.01),
            (hw * 0.5, length + 0.01),
            (0.0, length + 0.015),
        ]
        lines.append(np.array([(-ww, waist), (ww, waist)]))
        closure_y = (depth + 0.03, waist - 0.02)
    else:
        length = dict(cropped=0.36, regular=0.50, long=0.66)[spec.length] + j(
            0.02
        )
        if cat == 'jacket':
            length += 0.03
        if cat == 'shirt':  # shirt-tail hem
            right += [
                (bw, length - 0.05),
                (bw * 0.75, length - 0.015),
                (bw * 0.35, length + 0.015),
                (0.0, length + 0.02),
            ]
        else:
            right += [(bw, length), (0.0, length)]
        closure_y = (depth + 0.03, length - 0.03)
        _top_details(cat, bw, length, lines, closed)
    parts.insert(0, _mirror(right))
    if not sleeveless and spec.sleeve_length is not None:
        _add_sleeves(spec, j, (sw, drop), (ax, ay), parts, lines)
    return GarmentShape(
        parts,
        lines,
        closed,
        neck_open,
        neck_lines,
        neck_fill,
        0.0,
        closure_y,
        False,
    )


def _top_details(
    cat: str,
    bw: float,
    hem: float,
    lines: List[np.ndarray],
    closed: List[np.ndarray],
) -> None:
    """A shirt's chest pocket; a jacket's pocket flaps and hem band."""
    if cat == 'shirt':  # chest pocket
        closed.append(
            np.array(
                [
                    (-0.16, 0.14),
                    (-0.07, 0.14),
                    (-0.07, 0.24),
                    (-0.16, 0.24),
                ]
            )
        )
    elif cat == 'jacket':  # pocket flaps, hem band
        for sgn in (-1, 1):
            x0, x1 = sorted((sgn * 0.07, sgn * 0.18))
            y0 = hem - 0.17
            closed.append(
                np.array(
                    [
                        (x0, y0),
                        (x1, y0),
                        (x1, y0 + 0.045),
                        (x0, y0 + 0.045),
                    ]
                )
            )
        lines.append(np.array([(-bw, hem - 0.04), (bw, hem - 0.04)]))


def _add_sleeves(
    spec: GarmentSpec,
    j: Jitter,
    shoulder: Tuple[float, float],
    armpit: Tuple[float, float],
    parts: List[np.ndarray],
    lines: List[np.ndarray],
) -> None:
    """Both sleeves (and the cuffs of long shirt / jacket sleeves)."""
    cat = spec.category
    if cat == 'dress':
        ls, we = dict(
            short=(0.11, 0.12),
            three_quarter=(0.24, 0.09),
            long=(0.36, 0.08),
        )[spec.sleeve_length]
    else:
        ls, we = dict(
            short=(0.14, 0.16),
            three_quarter=(0.30, 0.12),
            long=(0.44, 0.10),
        )[spec.sleeve_length]
        if cat == 'jacket':
            ls, we = ls + 0.02, we + 0.02
    theta = dict(short=30.0, three_quarter=52.0, long=62.0)[
        spec.sleeve_length
    ] + j(5.0)
    ls += j(0.015)
    for sign in (1, -1):
        parts.append(_sleeve(shoulder, armpit, theta, ls, we, sign))
        if cat in ('shirt', 'jacket') and spec.sleeve_length != 'short':
            lines.append(_cuff(shoulder, theta, ls, we, sign))


def _lower_garment_shape(
    spec: GarmentSpec, j: Jitter, extra: List[np.ndarray]
) -> GarmentShape:
    """Skirts and trousers: waistband, silhouette, pockets."""
    parts: List[np.ndarray] = list(extra)
    lines: List[np.ndarray] = []
    ww = 0.16 + j(0.01)
    band = 0.045
    if spec.category == 'skirt':
        length = dict(mini=0.30, midi=0.52, maxi=0.78)[spec.length] + j(0.02)
        hw = ww + length * (0.28 + j(0.04))
        right = [
            (ww, 0.0),
            (ww + 0.005, band),
            (hw, length),
            (hw * 0.5, length + 0.01),
            (0.0, length + 0.012),
        ]
        parts.insert(0, _mirror(right))
    else:
        length = dict(shorts=0.36, capri=0.64, ankle=0.90)[spec.length] + j(
            0.02
        )
        hip = ww + 0.03
        outer = hip - 0.02 * length / 0.9
        leg = dict(shorts=0.155, capri=0.13, ankle=0.12)[spec.length]
        inner = outer - leg - j(0.01)
        poly = np.array(
            [
                (-ww, 0.0),
                (ww, 0.0),
                (ww + 0.01, band),
                (hip, 0.17),
                (outer, length),
                (inner, length),
                (0.0, 0.27),
                (-inner, length),
                (-outer, length),
                (-hip, 0.17),
                (-ww - 0.01, band),
            ]
        )
        parts.insert(0, poly)
        for sgn in (-1, 1):  # slanted pockets
            lines.append(
                np.array([(sgn * 0.11, band), (sgn * (hip - 0.005), 0.14)])
            )
    lines.append(np.array([(-ww, band), (ww, band)]))
    return GarmentShape(
        parts, lines, [], None, [], [], 0.0, (band, band), True
    )


def shape_bounds(shape: GarmentShape) -> Tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` of the silhouette in garment units."""
    pts = np.concatenate(shape.parts)
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )
