"""The paper's random zoom / translation / rotation / shear, as one warp.

Parekh & Shaik (VISAPP 2023), Sec. 4.2: "zoom in and out within range of
+/- 20%, translation within +/-20% both in horizontal and vertical
directions, rotation within +/- 10 degrees, shear in range +/-10%".
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

Range = Union[float, Sequence[float]]


def _range(
    value: Range, name: str, center: float = 0.0
) -> Tuple[float, float]:
    """``x`` -> ``(center - x, center + x)``; a pair is taken as is."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(
                f'FashionRandomAffine: {name} must be >= 0, not {value}'
            )
        return center - float(value), center + float(value)
    lo, hi = (float(v) for v in value)
    if lo > hi:
        raise ValueError(
            f'FashionRandomAffine: {name} range {value} has min > max'
        )
    return lo, hi


def affine_matrix(
    width: int,
    height: int,
    scale: float = 1.0,
    angle: float = 0.0,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
    tx: float = 0.0,
    ty: float = 0.0,
) -> np.ndarray:
    """The ``3 x 3`` forward matrix (input pixel -> output pixel).

    ``M = T(c + t) @ R(angle) @ Sh(shear_x, shear_y) @ S(scale) @ T(-c)``
    with ``c = ((width - 1) / 2, (height - 1) / 2)`` the image center in
    pixel coordinates, ``R`` a counter-clockwise rotation as seen on screen
    (same sign as ``cv2.getRotationMatrix2D``), ``Sh = [[1, shear_x],
    [shear_y, 1]]`` and ``t = (tx, ty)`` in pixels.
    """
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    zoom = np.diag([scale, scale, 1.0])
    shear = np.array([[1, shear_x, 0], [shear_y, 1, 0], [0, 0, 1]], np.float64)
    rot = np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]], np.float64)
    back = np.array([[1, 0, cx + tx], [0, 1, cy + ty], [0, 0, 1]], np.float64)
    return back @ rot @ shear @ zoom @ to_origin


@TRANSFORMS.register_module()
class FashionRandomAffine(BaseTransform):
    """Random zoom, translation, rotation and shear as one affine warp.

    All four are drawn independently and uniformly, combined into one
    matrix about the image center (see :func:`affine_matrix`) and applied
    with a single ``cv2.warpAffine`` (output of the input's size, constant
    border ``pad_val``), so the image is interpolated once.

    * zoom: scale factor in ``[1 - zoom, 1 + zoom]``;
    * translate: shift in ``[-translate, translate]`` times the width
      (x) and the height (y), drawn separately;
    * rotate: angle in degrees in ``[-rotate, rotate]``, positive is
      counter-clockwise on screen;
    * shear: shear factors (``tan`` of the shear angle, "10 %" = 0.1) in
      ``[-shear, shear]`` along x and along y, drawn separately.

    Each may also be a ``(min, max)`` pair (zoom as the scale-factor range).

    Randomness comes from numpy's global RNG, which
    ``mmengine.runner.set_random_seed`` and the dataloader's
    ``worker_init_fn`` seed, so runs are reproducible under a seed. The
    sampled parameters are cached with ``cache_randomness`` (mmcv), so the
    transform works inside ``KeyMapper``/``TestTimeAug``.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.
    Added keys: ``affine_matrix`` (``float64 [3, 3]``, input -> output
    pixel coordinates, of this transform only; identity when not applied).

    Args:
        zoom: Zoom range, fraction (paper: 0.2).
        translate: Translation range, fraction of the size (paper: 0.2).
        rotate: Rotation range in degrees (paper: 10).
        shear: Shear factor range (paper: 0.1).
        prob: Probability of applying the transform.
        pad_val: Border fill: a scalar or one value per channel.
        interpolation: ``nearest``, ``bilinear``, ``bicubic``, ``area`` or
            ``lanczos``.
    """

    def __init__(
        self,
        zoom: Range = 0.2,
        translate: Range = 0.2,
        rotate: Range = 10.0,
        shear: Range = 0.1,
        prob: float = 1.0,
        pad_val: Union[int, float, Sequence] = 0,
        interpolation: str = 'bilinear',
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(
                f'FashionRandomAffine: prob must be in [0, 1], not {prob}'
            )
        if interpolation not in cv2_interp_codes:
            raise ValueError(
                f'FashionRandomAffine: interpolation must be one of '
                f'{sorted(cv2_interp_codes)}, not {interpolation!r}'
            )
        self.zoom = _range(zoom, 'zoom', center=1.0)
        if self.zoom[0] <= 0:
            raise ValueError(
                f'FashionRandomAffine: zoom range {zoom} allows a scale <= 0'
            )
        self.translate = _range(translate, 'translate')
        self.rotate = _range(rotate, 'rotate')
        self.shear = _range(shear, 'shear')
        self.prob = prob
        self.pad_val = pad_val
        self.interpolation = interpolation

    @cache_randomness
    def _sample(self) -> dict:
        """Draw the parameters; ``None`` when the transform is skipped."""
        if np.random.rand() >= self.prob:
            return None
        return dict(
            scale=np.random.uniform(*self.zoom),
            tx=np.random.uniform(*self.translate),
            ty=np.random.uniform(*self.translate),
            angle=np.random.uniform(*self.rotate),
            shear_x=np.random.uniform(*self.shear),
            shear_y=np.random.uniform(*self.shear),
        )

    def _warp(self, img: np.ndarray, mat: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        channels = img.shape[2] if img.ndim == 3 else 1
        if isinstance(self.pad_val, (int, float, np.integer, np.floating)):
            fill = (float(self.pad_val),) * channels
        else:
            fill = tuple(float(v) for v in self.pad_val)
            if len(fill) != channels:
                raise ValueError(
                    f'FashionRandomAffine: pad_val has {len(fill)} entries '
                    f'but the image has {channels} channels'
                )
        flags = cv2_interp_codes[self.interpolation]
        chunks = []
        # cv2 border values hold at most 4 channels.
        for start in range(0, channels, 4):
            part = img if img.ndim == 2 else img[..., start : start + 4]
            out = cv2.warpAffine(
                np.ascontiguousarray(part),
                mat[:2],
                (w, h),
                flags=flags,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=fill[start : start + 4],
            )
            if img.ndim == 3 and out.ndim == 2:
                out = out[..., None]
            chunks.append(out)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks, -1)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        params = self._sample()
        if params is None:
            mat = np.eye(3)
        else:
            mat = affine_matrix(
                w,
                h,
                params['scale'],
                params['angle'],
                params['shear_x'],
                params['shear_y'],
                params['tx'] * w,
                params['ty'] * h,
            )
            results['img'] = self._warp(img, mat)
        results['img_shape'] = results['img'].shape[:2]
        results['affine_matrix'] = mat
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(zoom={self.zoom}, '
            f'translate={self.translate}, rotate={self.rotate}, '
            f'shear={self.shear}, prob={self.prob}, '
            f'pad_val={self.pad_val}, '
            f'interpolation={self.interpolation!r})'
        )
