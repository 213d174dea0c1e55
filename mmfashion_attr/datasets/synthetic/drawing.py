"""Drawing a garment image: background, garment, closure, distractor.

:func:`render_garment` places the garment (and, with clutter, a second,
unlabelled garment partly in view at an image edge) on a tinted background
with clutter shapes, draws at ``supersample`` times the output size and
downsamples, then adds pixel noise.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .geometry import GarmentShape, garment_shape, shape_bounds
from .specs import GarmentSpec, rgb_distance
from .textures import bgr, contrast_colour, jitter_colour, pattern_index
from .vocabulary import BOTTOMS, COLOUR_NAMES, COLOURS, MIN_BG_DISTANCE


def _to_px(poly: np.ndarray, scale: float, origin) -> np.ndarray:
    return np.round(poly * scale + np.asarray(origin)).astype(np.int32)


def _draw_garment(
    canvas: np.ndarray,
    spec: GarmentSpec,
    shape: GarmentShape,
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
    cols = [jitter_colour(rng, c) for c in spec.colours]
    main = cols[0]
    edge = contrast_colour(main)
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
    shape: GarmentShape,
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
        tint = bgr(COLOURS[COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]])
        t = rng.uniform(0.0, 0.2)
        c0 = np.full(3, level, np.float32) * (1 - t) + tint * t
        d = min(rgb_distance(c0, a) for a in avoid) if avoid else 1e9
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
        col = jitter_colour(
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
    cols = [bgr(COLOURS[c]) for c in spec.colours]
    if distractor is not None:
        cols += [bgr(COLOURS[c]) for c in distractor.colours]
    shape = garment_shape(spec, rng, detail_scale)
    x0, y0, x1, y1 = shape_bounds(shape)
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
        dx0, dy0, dx1, dy1 = shape_bounds(dshape)
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
