"""Procedural garment images in the catalog format (the default dataset).

A deterministic, offline stand-in for the in-house fashion catalog of
Parekh & Shaik, "Multi-Scale Feature Based Fashion Attribute Extraction
Using Multi-Task Learning" (VISAPP 2023). It mirrors the difficulty axes of
the paper's Table 2 (region of interest small / large, granularity coarse /
fine) and the data problems of its section 2: missing attributes, class
imbalance, multi-label values, category-dependent values and cross-product
interference (a second garment partly in view, background clutter).

Each image shows one flat-lay garment drawn with numpy and OpenCV:

* ``category`` (large, coarse): the silhouette (t-shirt, shirt, dress,
  trousers, skirt, jacket), with category cues (shirt-tail hem, cuffs and
  chest pocket of a shirt, pocket flaps of a jacket, waistband and legs...).
* ``length`` (large, coarse): the garment's aspect ratio; the values depend
  on the category (cropped / regular / long tops, mini / midi / maxi dresses
  and skirts, shorts / capri / ankle trousers).
* ``pattern`` (large, fine): a texture over the whole garment; periods and
  dot sizes never go below a few output pixels, so what is labelled is
  visible at the chosen image size.
* ``colour`` (large, coarse, multi-label): the garment's main colour plus
  its pattern colour(s); the distractor garment and the clutter are not
  labelled.
* ``sleeve_length`` (small, coarse): sleeves; tops and dresses only.
* ``closure`` (small, coarse, multi-label): a row of small buttons and/or a
  thin zip with a pull, on a narrow placket; no closure is the empty list
  ``[]`` (labelled, no value applies).
* ``neck_type`` (small, fine): a small neckline shape; tops and dresses.

Small details (neckline, closure) scale with ``detail_scale``; with the
default, at 128 px buttons are 1.4 to 2.2 px in radius (never under 1.1 px)
and necklines 12 to 25 px wide (the garment fills 65 to 90 % of the
frame). Every sample has its own random streams (spec, labels, rendering)
derived from ``(seed, index)``, so the output does not depend on the number
of worker processes, and changing a label knob (omission, unknown rate)
leaves the images unchanged.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

GENERATOR_VERSION = 1
MARKER_FILE = 'generator.json'

CATEGORIES = ('t-shirt', 'shirt', 'dress', 'trousers', 'skirt', 'jacket')
TOPS = ('t-shirt', 'shirt', 'jacket')
BOTTOMS = ('trousers', 'skirt')

LENGTHS = (
    'cropped',
    'regular',
    'long',
    'mini',
    'midi',
    'maxi',
    'shorts',
    'capri',
    'ankle',
)
PATTERNS = (
    'solid',
    'stripes_h',
    'stripes_v',
    'checks',
    'dots',
    'floral',
    'zigzag',
    'diagonal',
)
SLEEVES = ('sleeveless', 'short', 'three_quarter', 'long')
CLOSURES = ('button', 'zip')
NECKS = ('round', 'v_neck', 'collar', 'square', 'boat', 'turtle')
# Named colours (RGB). Order = frequency rank under ``imbalance``.
COLOURS: Dict[str, Tuple[int, int, int]] = {
    'black': (28, 28, 30),
    'white': (242, 242, 238),
    'blue': (35, 75, 200),
    'red': (205, 35, 35),
    'grey': (128, 128, 128),
    'green': (40, 150, 60),
    'pink': (240, 135, 185),
    'yellow': (242, 215, 40),
    'brown': (115, 70, 35),
    'purple': (120, 50, 165),
    'orange': (245, 130, 20),
}
COLOUR_NAMES = tuple(COLOURS)

# Allowed values per category, in frequency-rank order (the first value is
# the most frequent under ``imbalance``). ``category`` lists every category
# so the category task keeps its negatives when the model masks the loss
# with the allowed values of the ground-truth category.
ALLOWED: Dict[str, Dict[str, Tuple[str, ...]]] = {
    't-shirt': dict(
        length=('regular', 'cropped', 'long'),
        sleeve_length=('short', 'long', 'sleeveless', 'three_quarter'),
        closure=('button',),
        neck_type=('round', 'v_neck', 'boat', 'square', 'turtle'),
    ),
    'shirt': dict(
        length=('regular', 'long', 'cropped'),
        sleeve_length=('long', 'short', 'three_quarter'),
        closure=('button', 'zip'),
        neck_type=('collar', 'round', 'v_neck'),
    ),
    'dress': dict(
        length=('midi', 'mini', 'maxi'),
        sleeve_length=('sleeveless', 'short', 'three_quarter', 'long'),
        closure=('zip', 'button'),
        neck_type=('round', 'v_neck', 'square', 'boat', 'collar'),
    ),
    'trousers': dict(
        length=('ankle', 'shorts', 'capri'), closure=('zip', 'button')
    ),
    'skirt': dict(length=('midi', 'mini', 'maxi'), closure=('zip', 'button')),
    'jacket': dict(
        length=('regular', 'long', 'cropped'),
        sleeve_length=('long', 'three_quarter', 'sleeveless'),
        closure=('zip', 'button'),
        neck_type=('collar', 'round', 'turtle', 'v_neck'),
    ),
}
# Probability that a garment has no closure at all (labelled ``[]``) and
# that it has both a zip and buttons.
P_NO_CLOSURE = {
    't-shirt': 0.6,
    'shirt': 0.1,
    'dress': 0.45,
    'trousers': 0.0,
    'skirt': 0.3,
    'jacket': 0.15,
}
P_BOTH_CLOSURES = {'trousers': 0.3, 'jacket': 0.25}
# Attributes that may be omitted or marked unknown; never category/colour.
OPTIONAL_ATTRIBUTES = (
    'length',
    'pattern',
    'sleeve_length',
    'closure',
    'neck_type',
)
ATTRIBUTE_ORDER = (
    'category',
    'length',
    'pattern',
    'colour',
    'sleeve_length',
    'closure',
    'neck_type',
)
MIN_COLOUR_DISTANCE = 95.0  # between the colours of one garment (RGB)
MIN_BG_DISTANCE = 70.0  # between the background and garment colours


def build_schema() -> dict:
    """The schema of the synthetic dataset (the ``schema.json`` content)."""
    attributes = [
        dict(
            name='category',
            values=list(CATEGORIES),
            roi='large',
            granularity='coarse',
            from_category=True,
        ),
        dict(
            name='length',
            values=list(LENGTHS),
            roi='large',
            granularity='coarse',
        ),
        dict(
            name='pattern',
            values=list(PATTERNS),
            roi='large',
            granularity='fine',
        ),
        dict(
            name='colour',
            values=list(COLOUR_NAMES),
            roi='large',
            granularity='coarse',
        ),
        dict(
            name='sleeve_length',
            values=list(SLEEVES),
            roi='small',
            granularity='coarse',
        ),
        dict(
            name='closure',
            values=list(CLOSURES),
            roi='small',
            granularity='coarse',
        ),
        dict(
            name='neck_type',
            values=list(NECKS),
            roi='small',
            granularity='fine',
        ),
    ]
    allowed = {}
    for cat in CATEGORIES:
        per = dict(
            category=list(CATEGORIES),
            pattern=list(PATTERNS),
            colour=list(COLOUR_NAMES),
        )
        for attr, values in ALLOWED[cat].items():
            per[attr] = [v for v in _schema_values(attr) if v in values]
        allowed[cat] = {a: per[a] for a in ATTRIBUTE_ORDER if a in per}
    return dict(
        attributes=attributes, categories=list(CATEGORIES), allowed=allowed
    )


def _schema_values(attr: str) -> Tuple[str, ...]:
    return dict(
        length=LENGTHS,
        sleeve_length=SLEEVES,
        closure=CLOSURES,
        neck_type=NECKS,
    )[attr]


# --------------------------------------------------------------------- specs
@dataclass
class GarmentSpec:
    """What one garment looks like (the full, true labels).

    Args:
        category: One of :data:`CATEGORIES`.
        length: A length allowed for the category.
        pattern: One of :data:`PATTERNS`.
        colours: Colour names, the main colour first, then the pattern
            colour(s) (none for ``solid``).
        sleeve_length: Sleeve value, None for bottoms.
        closure: Closure values (empty: no closure).
        neck_type: Neckline value, None for bottoms.
    """

    category: str
    length: str
    pattern: str
    colours: Tuple[str, ...]
    sleeve_length: Optional[str] = None
    closure: Tuple[str, ...] = ()
    neck_type: Optional[str] = None

    def labels(self) -> Dict[str, List[str]]:
        """The complete attribute labels (catalog form, no ``category``)."""
        out = dict(
            length=[self.length],
            pattern=[self.pattern],
            colour=list(self.colours),
        )
        if self.sleeve_length is not None:
            out['sleeve_length'] = [self.sleeve_length]
        if 'closure' in ALLOWED[self.category]:
            order = [v for v in CLOSURES if v in self.closure]
            out['closure'] = order
        if self.neck_type is not None:
            out['neck_type'] = [self.neck_type]
        return {a: out[a] for a in ATTRIBUTE_ORDER if a in out}


def zipf_probs(n: int, imbalance: float) -> np.ndarray:
    """Zipf-like probabilities ``p_k ~ (k + 1) ** -imbalance``."""
    w = np.arange(1, n + 1, dtype=np.float64) ** (-float(imbalance))
    return w / w.sum()


def _zipf_choice(
    rng: np.random.Generator, values: Sequence[str], imbalance: float
) -> str:
    return values[
        int(rng.choice(len(values), p=zipf_probs(len(values), imbalance)))
    ]


def _rgb_dist(a, b) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))


def sample_spec(
    rng: np.random.Generator,
    imbalance: float = 1.0,
    category: Optional[str] = None,
    exclude: Sequence[str] = (),
) -> GarmentSpec:
    """Draw a random garment.

    Args:
        rng: Random generator.
        imbalance: Zipf exponent of value frequencies (0: uniform).
        category: Force the category.
        exclude: Categories not to draw (when ``category`` is None).
    """
    if category is None:
        cats = [c for c in CATEGORIES if c not in exclude]
        category = _zipf_choice(rng, cats, imbalance)
    al = ALLOWED[category]
    length = _zipf_choice(rng, al['length'], imbalance)
    pattern = _zipf_choice(rng, PATTERNS, imbalance)
    sleeve = neck = None
    if 'sleeve_length' in al:
        sleeve = _zipf_choice(rng, al['sleeve_length'], imbalance)
    if 'neck_type' in al:
        neck = _zipf_choice(rng, al['neck_type'], imbalance)
    closure: Tuple[str, ...] = ()
    if rng.random() >= P_NO_CLOSURE[category]:
        first = _zipf_choice(rng, al['closure'], imbalance)
        closure = (first,)
        if rng.random() < P_BOTH_CLOSURES.get(category, 0.0):
            closure = tuple(al['closure'])
    main = _zipf_choice(rng, COLOUR_NAMES, imbalance)
    colours = [main]
    if pattern != 'solid':
        n_extra = 1
        if (
            pattern in ('stripes_h', 'stripes_v', 'diagonal')
            and rng.random() < 0.3
        ):
            n_extra = 2
        for _ in range(n_extra):
            ok = [
                c
                for c in COLOUR_NAMES
                if all(
                    _rgb_dist(COLOURS[c], COLOURS[o]) >= MIN_COLOUR_DISTANCE
                    for o in colours
                )
            ]
            colours.append(ok[int(rng.integers(len(ok)))])
    return GarmentSpec(
        category, length, pattern, tuple(colours), sleeve, closure, neck
    )


# ------------------------------------------------------------------ geometry
@dataclass
class _Shape:
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


def garment_shape(
    spec: GarmentSpec, rng: np.random.Generator, detail_scale: float = 1.0
) -> _Shape:
    """The geometry of a garment in garment units (jittered by ``rng``)."""
    j = lambda s: float(rng.uniform(-s, s))  # noqa: E731
    cat = spec.category
    parts: List[np.ndarray] = []
    lines: List[np.ndarray] = []
    closed: List[np.ndarray] = []
    neck_open = None
    neck_lines: List[np.ndarray] = []
    neck_fill: List[np.ndarray] = []
    a = 0.085 * detail_scale * (1 + j(0.15))
    depth = 0.0
    if spec.neck_type is not None:
        neck_open, neck_lines, neck_fill, extra, depth = _neck_geometry(
            spec.neck_type, a
        )
        parts += extra

    if cat in TOPS or cat == 'dress':
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
            hem = length
        else:
            length = dict(cropped=0.36, regular=0.50, long=0.66)[
                spec.length
            ] + j(0.02)
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
            hem = length
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
        parts.insert(0, _mirror(right))
        if not sleeveless and spec.sleeve_length is not None:
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
                parts.append(
                    _sleeve((sw, drop), (ax, ay), theta, ls, we, sign)
                )
                if (
                    cat in ('shirt', 'jacket')
                    and spec.sleeve_length != 'short'
                ):
                    lines.append(_cuff((sw, drop), theta, ls, we, sign))
        return _Shape(
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

    # bottoms
    ww = 0.16 + j(0.01)
    band = 0.045
    if cat == 'skirt':
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
    return _Shape(parts, lines, closed, None, [], [], 0.0, (band, band), True)


def _bounds(shape: _Shape) -> Tuple[float, float, float, float]:
    pts = np.concatenate(shape.parts)
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )


# ----------------------------------------------------------------- textures
def _bgr(rgb) -> np.ndarray:
    return np.array(rgb[::-1], dtype=np.float32)


def _jitter_colour(rng, name: str) -> np.ndarray:
    c = _bgr(COLOURS[name]) + rng.uniform(-12, 12, 3).astype(np.float32)
    return np.clip(c, 0, 255)


def _contrast(c: np.ndarray) -> np.ndarray:
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


# ----------------------------------------------------------------- drawing
def _to_px(poly: np.ndarray, scale: float, origin) -> np.ndarray:
    return np.round(poly * scale + np.asarray(origin)).astype(np.int32)


def _draw_garment(
    canvas: np.ndarray,
    spec: GarmentSpec,
    shape: _Shape,
    scale: float,
    origin,
    ss: int,
    rng: np.random.Generator,
    detail_scale: float,
) -> np.ndarray:
    """Draw a garment onto ``canvas`` (in place); return its mask."""
    mask = np.zeros(canvas.shape[:2], np.uint8)
    parts = [_to_px(p, scale, origin) for p in shape.parts]
    cv2.fillPoly(mask, parts, 255)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return mask
    cols = [_jitter_colour(rng, c) for c in spec.colours]
    main = cols[0]
    edge = _contrast(main)
    u_final = scale / ss
    period = max(u_final * rng.uniform(0.065, 0.1), 6.0) * ss
    idx = pattern_index(spec.pattern, h, w, period, 1.6 * ss, len(cols), rng)
    pal = np.stack(cols).astype(np.float32)
    # soft directional light
    phi = rng.uniform(0, 2 * math.pi)
    amp = rng.uniform(0.03, 0.12) / max(w, h)
    gx = (np.arange(w, dtype=np.float32) - w / 2) * (amp * math.cos(phi))
    gy = (np.arange(h, dtype=np.float32) - h / 2) * (amp * math.sin(phi))
    g = 1.0 + gy[:, None] + gx[None, :]
    roi = canvas[y : y + h, x : x + w]
    m = mask[y : y + h, x : x + w] > 0
    tex = pal[np.minimum(idx[m], len(cols) - 1)] * g[m][:, None]
    roi[m] = np.clip(tex, 0, 255).astype(np.uint8)

    thin = max(1, int(round(0.9 * ss)))
    seam = ((main + edge) / 2).tolist()
    for ln in shape.lines:
        cv2.polylines(
            canvas, [_to_px(ln, scale, origin)], False, seam, thin, cv2.LINE_AA
        )
    for ln in shape.closed_lines:
        cv2.polylines(
            canvas, [_to_px(ln, scale, origin)], True, seam, thin, cv2.LINE_AA
        )
    # outline of the silhouette
    contours, _ = cv2.findContours(
        mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    cv2.drawContours(canvas, contours, -1, edge.tolist(), thin, cv2.LINE_AA)

    # neckline
    if shape.neck_open is not None:
        om = np.zeros_like(mask)
        cv2.fillPoly(om, [_to_px(shape.neck_open, scale, origin)], 255)
        om &= mask
        inner = main * 0.55 if _lum(main) > 60 else main + (255 - main) * 0.3
        canvas[om > 0] = inner.astype(np.uint8)
    for fl in shape.neck_fill:
        cv2.fillPoly(
            canvas, [_to_px(fl, scale, origin)], main.tolist(), cv2.LINE_AA
        )
        cv2.polylines(
            canvas,
            [_to_px(fl, scale, origin)],
            True,
            edge.tolist(),
            thin,
            cv2.LINE_AA,
        )
    for ln in shape.neck_lines:
        cv2.polylines(
            canvas,
            [_to_px(ln, scale, origin)],
            True,
            edge.tolist(),
            thin,
            cv2.LINE_AA,
        )
    _draw_closure(
        canvas, spec, shape, scale, origin, ss, main, edge, detail_scale, rng
    )
    return mask


def _lum(c) -> float:
    return float(0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2])


def _draw_closure(
    canvas,
    spec: GarmentSpec,
    shape: _Shape,
    scale,
    origin,
    ss,
    main,
    edge,
    detail_scale,
    rng,
) -> None:
    if not spec.closure:
        return
    u = scale  # pixels per garment unit (render scale)
    ds = detail_scale
    r_btn = max(0.017 * ds * u, 1.1 * ss)  # button radius
    t_zip = max(int(round(0.011 * ds * u)), ss)  # zip line width
    pw = max(0.026 * ds * u, r_btn + ss)  # placket half width
    tab_w = max(0.022 * ds * u, 1.5 * ss)
    tab_h = max(0.045 * ds * u, 2.5 * ss)
    col = edge.tolist()
    mcol = main.tolist()
    ox, oy = origin

    def placket(xc, y0, y1):
        cv2.rectangle(
            canvas,
            (int(round(xc - pw)), int(round(y0))),
            (int(round(xc + pw)), int(round(y1))),
            mcol,
            -1,
        )

    def buttons(xc, y0, y1, n):
        ys = np.linspace(y0 + r_btn * 1.5, y1 - r_btn * 1.5, n)
        for yb in ys:
            cv2.circle(
                canvas,
                (int(round(xc)), int(round(yb))),
                int(round(r_btn)),
                col,
                -1,
                cv2.LINE_AA,
            )

    def zip_(xc, y0, y1):
        cv2.line(
            canvas,
            (int(round(xc)), int(round(y0))),
            (int(round(xc)), int(round(y1))),
            col,
            t_zip,
        )
        tx = xc + t_zip * 0.5
        cv2.rectangle(
            canvas,
            (int(round(tx)), int(round(y0 + ss))),
            (int(round(tx + tab_w)), int(round(y0 + ss + tab_h))),
            col,
            -1,
        )

    if shape.waist_closure:  # bottoms
        band_y = oy + shape.closure_y[0] * u
        top_y = oy + 0.0 * u
        if 'zip' in spec.closure:
            fly = 0.15 if spec.category == 'trousers' else 0.13
            xz = ox + 0.035 * u if spec.category == 'trousers' else ox
            y0, y1 = band_y + ss, band_y + fly * u
            placket(xz, y0, y1)
            zip_(xz, y0, y1)
            if spec.category == 'trousers':  # curve of the fly
                pts = np.array(
                    [
                        (xz, y1),
                        (xz - 0.012 * u, y1 + 0.03 * u),
                        (ox, y1 + 0.045 * u),
                    ]
                )
                cv2.polylines(
                    canvas,
                    [np.round(pts).astype(np.int32)],
                    False,
                    col,
                    max(1, t_zip // 2 + 1),
                    cv2.LINE_AA,
                )
        if 'button' in spec.closure:
            rb = r_btn * 1.15
            cv2.circle(
                canvas,
                (int(round(ox)), int(round((top_y + band_y) / 2))),
                int(round(rb)),
                col,
                -1,
                cv2.LINE_AA,
            )
        return
    y0 = oy + shape.closure_y[0] * u
    y1 = oy + shape.closure_y[1] * u
    if spec.category == 't-shirt':  # henley placket
        y1 = min(y1, y0 + 0.17 * u)
    both = len(spec.closure) > 1
    if 'zip' in spec.closure:
        placket(ox, y0, y1)
        zip_(ox, y0, y1)
    if 'button' in spec.closure:
        xb = ox + (pw * 2.2 if both else 0.0)
        placket(xb, y0, y1)
        n = max(2, int((y1 - y0) / (0.09 * u)) + 1)
        if spec.category == 't-shirt':
            n = int(rng.integers(2, 4))
        buttons(xb, y0, y1, n)


def _background(
    rng, R: int, avoid: Sequence[np.ndarray], clutter: float
) -> np.ndarray:
    """A tinted gradient background with random clutter shapes."""
    best, best_d = None, -1.0
    for _ in range(12):
        level = rng.uniform(95, 230)
        tint = _bgr(
            COLOURS[COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]]
        )
        t = rng.uniform(0.0, 0.2)
        c0 = np.full(3, level, np.float32) * (1 - t) + tint * t
        d = min(_rgb_dist(c0, a) for a in avoid) if avoid else 1e9
        if d > best_d:
            best, best_d = c0, d
        if d >= MIN_BG_DISTANCE:
            break
    c0 = best
    c1 = np.clip(c0 + rng.uniform(-20, 20, 3), 0, 255)
    ramp = np.linspace(0.0, 1.0, R, dtype=np.float32)[:, None]
    line = (c0[None] * (1 - ramp) + c1[None] * ramp).astype(np.uint8)
    if rng.random() < 0.5:
        bg = np.ascontiguousarray(np.broadcast_to(line[:, None], (R, R, 3)))
    else:
        bg = np.ascontiguousarray(np.broadcast_to(line[None], (R, R, 3)))
    n = int(rng.poisson(6.0 * clutter)) if clutter > 0 else 0
    if n == 0:
        return bg
    alpha = rng.uniform(0.45, 0.9)
    over = bg.copy()
    for _ in range(n):
        col = _jitter_colour(
            rng, COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]
        )
        kind = int(rng.integers(3))
        p = rng.uniform(0, R, 2).astype(int)
        if kind == 0:
            cv2.circle(
                over,
                (int(p[0]), int(p[1])),
                int(rng.uniform(0.03, 0.12) * R),
                col.tolist(),
                -1,
                cv2.LINE_AA,
            )
        elif kind == 1:
            q = p + rng.uniform(-0.2, 0.2, 2) * R
            cv2.rectangle(
                over,
                (int(p[0]), int(p[1])),
                (int(q[0]), int(q[1])),
                col.tolist(),
                -1,
            )
        else:
            q = rng.uniform(0, R, 2)
            cv2.line(
                over,
                (int(p[0]), int(p[1])),
                (int(q[0]), int(q[1])),
                col.tolist(),
                int(rng.integers(1, 4)) * max(1, R // 128),
                cv2.LINE_AA,
            )
    return cv2.addWeighted(over, alpha, bg, 1 - alpha, 0)


def render_garment(
    spec: GarmentSpec,
    img_size: int,
    rng: np.random.Generator,
    detail_scale: float = 1.0,
    clutter: float = 0.5,
    distractor: Optional[GarmentSpec] = None,
    supersample: int = 2,
) -> Tuple[np.ndarray, dict]:
    """Draw one image.

    Args:
        spec: The labelled garment.
        img_size: Output side in pixels (square image).
        rng: Random generator of the rendering (placement, jitter, clutter).
        detail_scale: Size factor of necklines and closures.
        clutter: Background clutter and noise level (0: plain background,
            little noise).
        distractor: A second garment partly in view at an image edge (not
            labelled), or None.
        supersample: Drawing resolution factor (anti-aliasing).

    Returns:
        ``(image, info)``: a BGR ``uint8[img_size, img_size, 3]`` image and a
        dict with ``mask`` (bool, the labelled garment's pixels),
        ``distractor_mask`` (bool or None) and ``px_per_unit`` (output pixels
        per garment unit).
    """
    ss = int(supersample)
    R = img_size * ss
    cols = [_bgr(COLOURS[c]) for c in spec.colours]
    if distractor is not None:
        cols += [_bgr(COLOURS[c]) for c in distractor.colours]
    shape = garment_shape(spec, rng, detail_scale)
    x0, y0, x1, y1 = _bounds(shape)
    fill = 0.9
    scale = min(fill * R / (y1 - y0), fill * R / (x1 - x0))
    scale *= rng.uniform(0.72, 1.0)
    free_x = R - (x1 - x0) * scale
    free_y = R - (y1 - y0) * scale
    origin = (
        free_x / 2 - x0 * scale + rng.uniform(-0.4, 0.4) * free_x,
        free_y / 2 - y0 * scale + rng.uniform(-0.4, 0.4) * free_y,
    )
    canvas = _background(rng, R, cols, clutter)
    dmask_small = None
    if distractor is not None:
        dshape = garment_shape(distractor, rng, detail_scale)
        dx0, dy0, dx1, dy1 = _bounds(dshape)
        dscale = scale * rng.uniform(0.85, 1.1)
        vis = rng.uniform(0.12, 0.3) * R
        side = _distractor_side(spec.category, distractor.category, rng)
        cxd = rng.uniform(0.3, 0.7) * R - (dx0 + dx1) / 2 * dscale
        cyd = rng.uniform(0.3, 0.7) * R - (dy0 + dy1) / 2 * dscale
        if side == 'bottom':
            dorigin = (cxd, R - vis - dy0 * dscale)
        elif side == 'top':
            dorigin = (cxd, vis - dy1 * dscale)
        elif side == 'left':
            dorigin = (vis - dx1 * dscale, cyd)
        else:
            dorigin = (R - vis - dx0 * dscale, cyd)
        dmask = _draw_garment(
            canvas, distractor, dshape, dscale, dorigin, ss, rng, detail_scale
        )
        dmask_small = (
            cv2.resize(
                dmask, (img_size, img_size), interpolation=cv2.INTER_AREA
            )
            > 127
        )
    mask = _draw_garment(
        canvas, spec, shape, scale, origin, ss, rng, detail_scale
    )
    img = cv2.resize(
        canvas, (img_size, img_size), interpolation=cv2.INTER_AREA
    )
    sigma = 1.5 + 5.0 * float(clutter)
    noise = rng.normal(0.0, sigma, img.shape).astype(np.float32)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    mask_small = (
        cv2.resize(mask, (img_size, img_size), interpolation=cv2.INTER_AREA)
        > 127
    )
    if dmask_small is not None:
        dmask_small &= ~mask_small
    return img, dict(
        mask=mask_small, distractor_mask=dmask_small, px_per_unit=scale / ss
    )


def _distractor_side(main: str, other: str, rng) -> str:
    if main in BOTTOMS and other not in BOTTOMS:
        return 'top'
    if main not in BOTTOMS and other in BOTTOMS:
        return 'bottom'
    return ('left', 'right')[int(rng.integers(2))]


# ------------------------------------------------------------------ samples
@dataclass
class SyntheticConfig:
    """Knobs of the generator (see :func:`make_synthetic_dataset`)."""

    seed: int = 0
    img_size: int = 128
    detail_scale: float = 1.0
    clutter: float = 0.5
    omission_rate: Union[float, Dict[str, float]] = 0.2
    unknown_rate: float = 0.05
    imbalance: float = 1.0
    supersample: int = 2

    def omission(self, attr: str) -> float:
        if isinstance(self.omission_rate, dict):
            return float(self.omission_rate.get(attr, 0.0))
        return float(self.omission_rate)


def _rngs(seed: int, index: int):
    return tuple(
        np.random.default_rng([int(seed), int(index), k]) for k in range(3)
    )


def make_labels(
    spec: GarmentSpec, rng: np.random.Generator, cfg: SyntheticConfig
) -> Dict[str, List[str]]:
    """The annotated labels: the true ones with some optional attributes
    omitted and some single values marked unknown (``?value``)."""
    full = spec.labels()
    out = {}
    for attr, values in full.items():
        if attr in OPTIONAL_ATTRIBUTES:
            if rng.random() < cfg.omission(attr):
                continue
            if values and rng.random() < cfg.unknown_rate:
                k = int(rng.integers(len(values)))
                values = list(values)
                values[k] = '?' + values[k]
        out[attr] = list(values)
    return out


def generate_sample(
    index: int, cfg: SyntheticConfig
) -> Tuple[np.ndarray, GarmentSpec, dict, dict]:
    """Sample ``index`` of the dataset of ``cfg``.

    Returns:
        ``(image, spec, labels, info)``: the BGR image, the true garment,
        the annotated attribute labels and the render info (see
        :func:`render_garment`) plus ``distractor`` (its spec or None).
    """
    r_spec, r_label, r_render = _rngs(cfg.seed, index)
    spec = sample_spec(r_spec, cfg.imbalance)
    distractor = None
    if r_spec.random() < min(1.0, 0.8 * cfg.clutter):
        distractor = sample_spec(r_spec, 0.0, exclude=(spec.category,))
    labels = make_labels(spec, r_label, cfg)
    img, info = render_garment(
        spec,
        cfg.img_size,
        r_render,
        cfg.detail_scale,
        cfg.clutter,
        distractor,
        cfg.supersample,
    )
    info['distractor'] = distractor
    return img, spec, labels, info


def _img_name(index: int, width: int) -> str:
    return f'img/{index + 1:0{width}d}.jpg'


def _work(args) -> List[tuple]:
    indices, cfg, out_dir, width, quality = args
    cv2.setNumThreads(1)
    out = []
    for i in indices:
        img, spec, labels, info = generate_sample(i, cfg)
        ok, buf = cv2.imencode(
            '.jpg', img, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
        )
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for sample {i}')
        name = _img_name(i, width)
        with open(osp.join(out_dir, name), 'wb') as f:
            f.write(buf.tobytes())
        out.append((i, spec, labels, info['distractor'] is not None))
    return out


def _check_out_dir(out_dir: str, overwrite: bool) -> None:
    if (
        osp.isdir(out_dir)
        and os.listdir(out_dir)
        and not overwrite
        and not osp.exists(osp.join(out_dir, MARKER_FILE))
    ):
        raise FileExistsError(
            f'{out_dir}: not empty and not made by this generator (no '
            f'{MARKER_FILE}); pass overwrite=True (--overwrite) to write '
            'into it anyway'
        )


def make_synthetic_dataset(
    out_dir: str,
    num: int = 2000,
    seed: int = 0,
    img_size: int = 128,
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    detail_scale: float = 1.0,
    clutter: float = 0.5,
    omission_rate: Union[float, Dict[str, float]] = 0.2,
    unknown_rate: float = 0.05,
    imbalance: float = 1.0,
    workers: int = 0,
    jpeg_quality: int = 90,
    overwrite: bool = False,
) -> dict:
    """Write the synthetic garment dataset in the catalog format.

    Writes ``schema.json``, ``train.jsonl``, ``val.jsonl`` (and
    ``test.jsonl`` when ``test_fraction > 0``), ``full_labels.jsonl`` (every
    image with its complete, true labels, in index order), ``generator.json``
    (the parameters) and the images ``img/NNNNNN.jpg``. Use it with
    ``CatalogDataset(data_root=out_dir, ann_file='train.jsonl',
    schema='schema.json')``. The output is a function of the arguments
    except ``workers``, ``out_dir`` and ``overwrite``.

    Args:
        out_dir: Output folder.
        num: Number of images.
        seed: Random seed.
        img_size: Side of the square images in pixels.
        val_fraction: Fraction of images in ``val.jsonl``.
        test_fraction: Fraction of images in ``test.jsonl``.
        detail_scale: Size factor of the small-ROI details (necklines,
            closures); 1 gives ~2 px button radius at 128 px.
        clutter: 0..1, background shapes, pixel noise and the chance
            (``0.8 * clutter``) of a second, unlabelled garment partly in
            view at an image edge.
        omission_rate: Chance that an optional attribute (length, pattern,
            sleeve_length, closure, neck_type) is left out of a record
            (missing); a float or ``{attribute: rate}``. ``category`` and
            ``colour`` are never omitted.
        unknown_rate: Chance that one value of a labelled optional attribute
            is written as unknown (``?value``).
        imbalance: Zipf exponent of the value frequencies (0: uniform).
        workers: Processes; 0 picks ``min(cpu_count, 8)`` (1 for small
            ``num``).
        jpeg_quality: JPEG quality.
        overwrite: Allow writing into a non-empty folder not made by the
            generator.

    Returns:
        A summary dict: ``splits`` (records per split), ``labelled_rate``
        (per attribute: labelled records / records the attribute applies
        to), ``value_counts`` (true values per attribute), ``multi_label``
        (fraction of records with more than one value, per attribute),
        ``unknown_values``, ``empty_lists``, ``omitted``, ``distractors``,
        ``files`` and ``seconds``.
    """
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    if (
        not 0 <= val_fraction + test_fraction < 1
        or min(val_fraction, test_fraction) < 0
    ):
        raise ValueError(
            'val_fraction and test_fraction must be >= 0 and sum to < 1'
        )
    if img_size < 32:
        raise ValueError(f'img_size must be >= 32, got {img_size}')
    if isinstance(omission_rate, dict):
        bad = set(omission_rate) - set(OPTIONAL_ATTRIBUTES)
        if bad:
            raise ValueError(
                f'omission_rate for attributes that cannot be '
                f'omitted or do not exist: {sorted(bad)}'
            )
    t0 = time.time()
    from ...schema import AttributeSchema
    from ..catalog_format import write_jsonl

    _check_out_dir(out_dir, overwrite)
    os.makedirs(osp.join(out_dir, 'img'), exist_ok=True)
    cfg = SyntheticConfig(
        seed,
        img_size,
        detail_scale,
        clutter,
        omission_rate,
        unknown_rate,
        imbalance,
    )
    width = max(6, len(str(num)))

    schema = AttributeSchema.from_dict(build_schema(), source='synthetic')
    schema.dump(osp.join(out_dir, 'schema.json'))

    if workers <= 0:
        workers = 1 if num < 200 else min(os.cpu_count() or 1, 8)
    chunk = 32
    jobs = [
        (
            list(range(s, min(s + chunk, num))),
            cfg,
            out_dir,
            width,
            jpeg_quality,
        )
        for s in range(0, num, chunk)
    ]
    results: List[tuple] = []
    if workers > 1 and 'fork' in mp.get_all_start_methods():
        with mp.get_context('fork').Pool(workers) as pool:
            for part in pool.imap_unordered(_work, jobs):
                results += part
    else:
        for job in jobs:
            results += _work(job)
    results.sort(key=lambda r: r[0])

    # splits
    perm = np.random.default_rng([int(seed), 7919]).permutation(num)
    n_test = int(round(num * test_fraction))
    n_val = int(round(num * val_fraction))
    split_of = np.empty(num, dtype=object)
    split_of[:] = 'train'
    split_of[perm[:n_test]] = 'test'
    split_of[perm[n_test : n_test + n_val]] = 'val'
    splits = {'train': [], 'val': [], 'test': []}
    full = []
    for i, spec, labels, _ in results:
        name = _img_name(i, width)
        splits[split_of[i]].append(
            dict(img_path=name, category=spec.category, attributes=labels)
        )
        full.append(
            dict(
                img_path=name, category=spec.category, attributes=spec.labels()
            )
        )
    files = {}
    for split in ('train', 'val', 'test'):
        path = osp.join(out_dir, f'{split}.jsonl')
        if split == 'test' and n_test == 0:
            if osp.exists(path) and osp.exists(osp.join(out_dir, MARKER_FILE)):
                os.remove(path)  # stale, from an earlier run
            continue
        write_jsonl(path, splits[split])
        files[split] = path
    write_jsonl(osp.join(out_dir, 'full_labels.jsonl'), full)
    params = dict(
        generator='mmfashion_attr.datasets.synthetic',
        version=GENERATOR_VERSION,
        num=num,
        seed=seed,
        img_size=img_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        detail_scale=detail_scale,
        clutter=clutter,
        omission_rate=omission_rate,
        unknown_rate=unknown_rate,
        imbalance=imbalance,
        jpeg_quality=jpeg_quality,
    )
    with open(osp.join(out_dir, MARKER_FILE), 'w', encoding='utf-8') as f:
        json.dump(params, f, indent=1)

    summary = _summarise(results, schema)
    summary.update(
        out_dir=out_dir,
        num=num,
        seed=seed,
        img_size=img_size,
        splits={k: len(v) for k, v in splits.items()},
        files=dict(
            files,
            schema=osp.join(out_dir, 'schema.json'),
            full_labels=osp.join(out_dir, 'full_labels.jsonl'),
        ),
        seconds=round(time.time() - t0, 2),
    )
    return summary


def _summarise(results: List[tuple], schema) -> dict:
    applicable: Dict[str, int] = {}
    labelled: Dict[str, int] = {}
    multi: Dict[str, int] = {}
    counts: Dict[str, Dict[str, int]] = {
        a.name: {v: 0 for v in a.values} for a in schema.attributes
    }
    unknown = empty = distractors = 0
    for _, spec, labels, has_distractor in results:
        distractors += int(has_distractor)
        counts['category'][spec.category] += 1
        for attr, values in spec.labels().items():
            applicable[attr] = applicable.get(attr, 0) + 1
            for v in values:
                counts[attr][v] += 1
        for attr, values in labels.items():
            labelled[attr] = labelled.get(attr, 0) + 1
            if len(values) > 1:
                multi[attr] = multi.get(attr, 0) + 1
            if not values:
                empty += 1
            unknown += sum(v.startswith('?') for v in values)
    n = len(results)
    rate = {'category': 1.0}
    rate.update({a: labelled.get(a, 0) / applicable[a] for a in applicable})
    return dict(
        labelled_rate={
            a: round(rate[a], 4) for a in schema.names if a in rate
        },
        applicable={
            a: applicable.get(a, n if a == 'category' else 0)
            for a in schema.names
        },
        value_counts=counts,
        multi_label={
            a: round(multi.get(a, 0) / max(1, labelled.get(a, 0)), 4)
            for a in ('colour', 'closure')
        },
        unknown_values=unknown,
        empty_lists=empty,
        omitted=sum(applicable[a] - labelled.get(a, 0) for a in applicable),
        distractors=distractors,
    )
