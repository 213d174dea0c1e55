"""Aspect-preserving resize to a square canvas with padding.

Parekh & Shaik (VISAPP 2023), Sec. 4.2: "The input images are resized to
380 x 380 by maintaining aspect ratio."
"""

from __future__ import annotations

from typing import Sequence, Union

import cv2
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS


def _fill_values(
    pad_val: Union[int, float, Sequence], channels: int, name: str
) -> tuple:
    """One fill value per channel from a scalar or a per-channel tuple."""
    if isinstance(pad_val, (int, float, np.integer, np.floating)):
        return (pad_val,) * channels
    vals = tuple(pad_val)
    if len(vals) != channels:
        raise ValueError(
            f'{name}: pad_val has {len(vals)} entries but the '
            f'image has {channels} channels'
        )
    return vals


def _pad(
    img: np.ndarray,
    fill: tuple,
    top: int,
    bottom: int,
    left: int,
    right: int,
) -> np.ndarray:
    """Constant padding; ``cv2.copyMakeBorder`` where it applies (up to 4
    channels of a cv2 dtype: 50x faster than filling a numpy canvas)."""
    channels = img.shape[2] if img.ndim == 3 else 1
    if channels <= 4 and img.dtype in (np.uint8, np.float32, np.float64):
        out = cv2.copyMakeBorder(
            img, top, bottom, left, right, cv2.BORDER_CONSTANT,
            value=tuple(float(v) for v in fill) + (0.0,) * (4 - channels),
        )  # fmt: skip
        return out[..., None] if img.ndim == 3 and out.ndim == 2 else out
    h, w = img.shape[:2]
    shape = (top + h + bottom, left + w + right) + img.shape[2:]
    canvas = np.empty(shape, dtype=img.dtype)
    canvas[...] = np.asarray(fill if img.ndim == 3 else fill[0], img.dtype)
    canvas[top : top + h, left : left + w] = img
    return canvas


@TRANSFORMS.register_module()
class ResizePad(BaseTransform):
    """Resize the longer side to ``scale`` and pad to ``scale x scale``.

    The aspect ratio is kept: both sides are multiplied by the same factor
    ``scale / max(h, w)`` (each rounded to the nearest pixel, at least 1),
    then the image is placed on a ``scale x scale`` canvas filled with
    ``pad_val``. With ``center=True`` (default) the image is centered (the
    left/top padding is ``pad // 2``, the odd pixel goes right/bottom);
    with ``center=False`` it sits in the top-left corner and the padding is
    at the bottom/right (mmcv ``Pad`` convention).

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.
    Added keys: ``scale_factor`` (``(w_scale, h_scale)``, as mmcv),
    ``pad_shape`` (``(scale, scale)``), ``pad_offset`` (``(left, top)``
    padding in pixels) and ``pad_fixed_size``.

    A point ``(x, y)`` of the input lands at
    ``(x * w_scale + left, y * h_scale + top)`` (pixel-center convention of
    ``cv2.resize``: ``(x + 0.5) * s - 0.5``; both agree to half a pixel).

    Args:
        scale: Side of the square output, e.g. 384 (the paper used 380).
        pad_val: Fill value: a scalar or one value per channel.
        interpolation: ``nearest``, ``bilinear``, ``bicubic``, ``area`` or
            ``lanczos``.
        center: Center the image on the canvas (default) or put it in the
            top-left corner.
    """

    def __init__(
        self,
        scale: int,
        pad_val: Union[int, float, Sequence] = 0,
        interpolation: str = 'bilinear',
        center: bool = True,
    ) -> None:
        if not isinstance(scale, (int, np.integer)) or scale < 1:
            raise ValueError(
                f'ResizePad: scale must be a positive int, not {scale!r}'
            )
        if interpolation not in cv2_interp_codes:
            raise ValueError(
                f'ResizePad: interpolation must be one of '
                f'{sorted(cv2_interp_codes)}, not {interpolation!r}'
            )
        self.scale = int(scale)
        self.pad_val = pad_val
        self.interpolation = interpolation
        self.center = center

    def _geometry(self, h: int, w: int):
        """New size ``(nh, nw)`` and offset ``(left, top)``."""
        factor = self.scale / max(h, w)
        nw = min(self.scale, max(1, int(round(w * factor))))
        nh = min(self.scale, max(1, int(round(h * factor))))
        if self.center:
            left, top = (self.scale - nw) // 2, (self.scale - nh) // 2
        else:
            left, top = 0, 0
        return nh, nw, left, top

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if h < 1 or w < 1:
            raise ValueError(
                f'ResizePad: empty image {results.get("img_path", "")}'
            )
        nh, nw, left, top = self._geometry(h, w)
        if (nh, nw) != (h, w):
            resized = cv2.resize(
                img,
                (nw, nh),
                interpolation=cv2_interp_codes[self.interpolation],
            )
        else:
            resized = img
        if img.ndim == 3 and resized.ndim == 2:  # cv2 drops a 1-channel axis
            resized = resized[..., None]
        channels = img.shape[2] if img.ndim == 3 else 1
        fill = _fill_values(self.pad_val, channels, 'ResizePad')
        canvas = _pad(
            resized, fill, top, self.scale - nh - top, left,
            self.scale - nw - left,
        )  # fmt: skip
        results['img'] = canvas
        results['img_shape'] = canvas.shape[:2]
        results['pad_shape'] = canvas.shape[:2]
        results['pad_fixed_size'] = (self.scale, self.scale)
        results['pad_offset'] = (left, top)
        results['scale_factor'] = (nw / w, nh / h)
        results['keep_ratio'] = True
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(scale={self.scale}, '
            f'pad_val={self.pad_val}, '
            f'interpolation={self.interpolation!r}, '
            f'center={self.center})'
        )
