"""Tolerant image loading: robust decoding of dirty catalog data.

Sellers upload CMYK JPEGs, 16-bit and palette PNGs with transparency,
EXIF-rotated phone photos, truncated files, zero-byte files, HTML error
pages saved as ``.jpg`` and decompression bombs. :class:`SafeLoadImage`
(the registered name the configs use; "safe" as in tolerant of bad files,
unrelated to pickle safety, which is :mod:`mmfashion_attr.utils.checkpoint`)
decodes with Pillow, normalises every decodable image to the 8-bit BGR
array that mmcv's ``LoadImageFromFile`` produces, and turns every failure
into a :class:`BadImageError` with the file and the reason, which it then
raises, skips (training) or marks (validation, test, inference).
"""

from __future__ import annotations

import io
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageOps, UnidentifiedImageError

ON_ERROR = ('raise', 'skip', 'mark')
#: Pillow's own default ``Image.MAX_IMAGE_PIXELS`` (about 89.5 MP).
DEFAULT_MAX_PIXELS = 89_478_485
_HIGH_BIT = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I')
_ALPHA = ('RGBA', 'LA', 'PA', 'RGBa', 'La')


class BadImageError(ValueError):
    """An image file that cannot be used; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f'{path}: {reason}')


def _to_uint8(arr: np.ndarray, mode: str) -> np.ndarray:
    """8-bit version of a high bit depth or float single-channel image."""
    if mode.startswith('I;16') or (mode == 'I' and arr.max(initial=0) > 255):
        # 16-bit range onto 8 bits: 65535 -> 255 (like cv2 IMREAD_COLOR)
        arr = (arr.astype(np.float64) / 257.0).round()
    return np.clip(arr, 0, 255).astype(np.uint8)


def _composite(
    rgba: np.ndarray, background: Tuple[int, int, int]
) -> np.ndarray:
    """Alpha-composite ``(H, W, 4)`` uint8 RGBA onto a solid background."""
    rgb = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:].astype(np.uint32)
    bg = np.asarray(background, dtype=np.uint32)
    out = (rgb * alpha + bg * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def jpeg_reduction(w: int, h: int, decode_scale: Optional[int]) -> int:
    """The largest libjpeg DCT reduction (1, 2, 4 or 8) that keeps the
    longer side at least ``decode_scale`` pixels."""
    k = 1
    while decode_scale and k < 8 and max(w, h) / (2 * k) >= decode_scale:
        k *= 2
    return k


def decode_image(
    data: bytes,
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
    min_size: int = 1,
    background: Tuple[int, int, int] = (255, 255, 255),
    exif_transpose: bool = True,
    decode_scale: Optional[int] = None,
    info: Optional[dict] = None,
) -> np.ndarray:
    """Decode image bytes to an ``(H, W, 3)`` uint8 **RGB** array.

    Args:
        data: The file's bytes.
        max_pixels: Refuse images with more pixels than this, checked on
            the header before anything is decoded (decompression bombs).
            None disables the check (Pillow's own guard at twice its
            ``MAX_IMAGE_PIXELS`` still applies).
        min_size: Refuse images whose shorter side is below this.
        background: RGB colour transparent pixels are composited onto.
        exif_transpose: Apply the EXIF orientation tag.
        decode_scale: JPEG only: decode at 1/2, 1/4 or 1/8 of the size
            (libjpeg DCT scaling, much faster on large photos) as long as
            the longer side stays at least this many pixels. None: full
            size. The size checks use the full size.
        info: If given, receives ``size`` = the full ``(h, w)`` as stored
            (before EXIF rotation) and ``reduction`` = the factor used.

    Returns:
        The RGB image.

    Raises:
        ValueError: With the reason, for any file that cannot be used.
    """
    if not data:
        raise ValueError('empty file (0 bytes)')
    try:
        with warnings.catch_warnings():
            # our own max_pixels check below replaces Pillow's warning
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ValueError(
            f'not an image (unrecognised format, {len(data)} bytes, '
            f'starts with {data[:8]!r})'
        ) from None
    except Image.DecompressionBombError as e:
        raise ValueError(
            f'decompression bomb refused by Pillow: {e}'
        ) from None
    except Exception as e:  # corrupt header
        raise ValueError(f'corrupt header ({type(e).__name__}: {e})') from None
    w, h = img.size
    if max_pixels is not None and w * h > max_pixels:
        raise ValueError(
            f'{w}x{h} = {w * h} pixels exceeds max_pixels={max_pixels} '
            '(decompression bomb guard; not decoded)'
        )
    if min(w, h) < min_size:
        raise ValueError(f'{w}x{h} is smaller than min_size={min_size}')
    k = jpeg_reduction(w, h, decode_scale) if img.format == 'JPEG' else 1
    if k > 1:
        img.draft(None, (-(-w // k), -(-h // k)))
    if info is not None:
        info.update(size=(h, w), reduction=k)
    try:
        img.load()  # truncated data raises here (LOAD_TRUNCATED_IMAGES off)
    except Exception as e:
        raise ValueError(
            f'truncated or corrupt {img.format or "image"} data '
            f'({type(e).__name__}: {e})'
        ) from None
    if exif_transpose:
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # malformed EXIF: keep the stored orientation
            pass
    mode = img.mode
    try:
        if mode in _HIGH_BIT or mode == 'F':
            gray = _to_uint8(np.asarray(img), mode)
            rgb = np.repeat(gray[..., None], 3, axis=2)
        elif mode in _ALPHA or 'transparency' in img.info:
            rgb = _composite(np.asarray(img.convert('RGBA')), background)
        else:  # 1, L, P, RGB, CMYK, YCbCr, LAB, ...
            rgb = np.asarray(img.convert('RGB'))
    except Exception as e:
        raise ValueError(
            f'cannot convert mode {mode!r} to RGB ({type(e).__name__}: {e})'
        ) from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'unexpected decoded array {rgb.shape} {rgb.dtype}')
    return rgb


@TRANSFORMS.register_module()
class SafeLoadImage(BaseTransform):
    """Load an image tolerantly; raise, skip or mark files that cannot be
    used.

    A drop-in for mmcv's ``LoadImageFromFile`` (same output: ``img`` as
    ``(H, W, 3)`` uint8 BGR, ``img_shape``, ``ori_shape``) that decodes with
    Pillow and

    * applies the EXIF orientation;
    * converts CMYK, palette, grayscale, 16-bit and float images to 8-bit
      colour; transparent pixels (RGBA, LA, palette or ``tRNS``
      transparency) are composited onto ``background`` (white) instead of
      showing whatever colour the seller's tool left under them;
    * refuses, without decoding, images of more than ``max_pixels`` pixels
      (decompression bombs) and images smaller than ``min_size``;
    * refuses zero-byte, truncated, corrupt and non-image files (Pillow's
      ``LOAD_TRUNCATED_IMAGES`` stays off; nothing process-wide is changed).

    What happens to a file that cannot be used (``on_error``):

    * ``'raise'``: :class:`BadImageError` naming the file and the reason
      (fail fast);
    * ``'skip'`` (training): the transform returns None and mmengine's
      ``BaseDataset`` draws another sample (up to ``max_refetch`` times).
      The refused files travel with the next sample this transform loads,
      as ``skipped_images`` (``['path: reason', ...]``), so
      :class:`~mmfashion_attr.engine.BadImageLoggerHook` counts them per
      epoch across dataloader workers and ranks. A test-mode dataset
      cannot skip (mmengine raises on None), use ``'mark'`` there;
    * ``'mark'`` (validation, test, inference): the sample keeps its place
      (the dataset size does not change), with a ``placeholder_size`` image
      of the ``background`` colour, ``load_error`` set to the reason and
      ``gt_attr_mask`` zeroed, so the sample is unlabelled: no loss, and
      :class:`AttributeMetric` counts none of its entries. Inference code
      reports ``data_sample.load_error`` as the error entry of the image.

    ``skipped_images`` and ``load_error`` reach the ``DataSample``'s
    metainfo when they are among ``PackAttrInputs``'s ``meta_keys``.

    ``decode_scale`` (e.g. the training resolution, 384) decodes large
    JPEGs at 1/2, 1/4 or 1/8 size while their longer side stays at least
    that long; ``ori_shape`` is then still the file's full size (before
    EXIF rotation) and ``img_shape`` the decoded one.

    Every refused file is also logged (the first ``log_first`` per
    process) and counted in :attr:`num_failed` of this instance.

    Args:
        on_error: ``'skip'`` (default), ``'raise'`` or ``'mark'``.
        max_pixels: Decompression bomb guard, checked on the header.
            Defaults to Pillow's default limit (89,478,485). None: off.
        min_size: Smallest accepted shorter side in pixels. Defaults to 1.
        background: RGB colour for transparent pixels and placeholders.
        exif_transpose: Apply the EXIF orientation. Defaults to True.
        channel_order: ``'bgr'`` (mmcv's default) or ``'rgb'``.
        to_float32: Return float32 instead of uint8.
        placeholder_size: ``(h, w)`` of the ``'mark'`` placeholder.
        decode_scale: Reduced JPEG decoding, see above. None: full size.
        backend_args: mmengine file backend arguments.
        log_first: How many refused files each process logs individually.
    """

    def __init__(
        self,
        on_error: str = 'skip',
        max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
        min_size: int = 1,
        background: Union[int, Sequence[int]] = (255, 255, 255),
        exif_transpose: bool = True,
        channel_order: str = 'bgr',
        to_float32: bool = False,
        placeholder_size: Tuple[int, int] = (32, 32),
        decode_scale: Optional[int] = None,
        backend_args: Optional[dict] = None,
        log_first: int = 20,
    ) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(
                f'SafeLoadImage: on_error must be one of {ON_ERROR}, '
                f'not {on_error!r}'
            )
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(
                "SafeLoadImage: channel_order must be 'bgr' "
                f"or 'rgb', not {channel_order!r}"
            )
        if isinstance(background, (int, np.integer)):
            background = (int(background),) * 3
        background = tuple(int(c) for c in background)
        if len(background) != 3 or not all(0 <= c <= 255 for c in background):
            raise ValueError(
                'SafeLoadImage: background must be 3 values '
                f'in [0, 255], not {background}'
            )
        self.on_error = on_error
        self.max_pixels = None if max_pixels is None else int(max_pixels)
        self.min_size = int(min_size)
        self.background = background
        self.exif_transpose = exif_transpose
        self.channel_order = channel_order
        self.to_float32 = to_float32
        self.placeholder_size = tuple(int(s) for s in placeholder_size)
        self.decode_scale = None if decode_scale is None else int(decode_scale)
        self.backend_args = (
            None if backend_args is None else dict(backend_args)
        )
        self.log_first = int(log_first)
        self.num_failed = 0
        self._pending: List[str] = []

    def load(self, path: str, info: Optional[dict] = None) -> np.ndarray:
        """The image at ``path`` as ``img`` is stored; raise
        :class:`BadImageError` if it cannot be used. ``info`` receives the
        full size and the JPEG reduction (see :func:`decode_image`)."""
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except Exception as e:
            raise BadImageError(
                path, f'cannot read ({type(e).__name__}: {e})'
            ) from None
        try:
            rgb = decode_image(
                data,
                max_pixels=self.max_pixels,
                min_size=self.min_size,
                background=self.background,
                exif_transpose=self.exif_transpose,
                decode_scale=self.decode_scale,
                info=info,
            )
        except ValueError as e:
            raise BadImageError(path, str(e)) from None
        # cv2's conversion: 50x faster than copying the reversed view
        img = (
            cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
            if self.channel_order == 'bgr'
            else np.ascontiguousarray(rgb)
        )
        return img.astype(np.float32) if self.to_float32 else img

    def _set_image(
        self, results: dict, img: np.ndarray, ori_shape: Optional[tuple] = None
    ) -> dict:
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = ori_shape or img.shape[:2]
        return results

    def transform(self, results: dict) -> Optional[dict]:
        path = results.get('img_path')
        if path is None and isinstance(results.get('img'), np.ndarray):
            return self._set_image(results, results['img'])  # in memory
        info: dict = {}
        try:
            img = self.load(str(path), info)
        except BadImageError as e:
            return self._refuse(results, e)
        if self._pending:
            results['skipped_images'] = self._pending
            self._pending = []
        full = info['size'] if info.get('reduction', 1) > 1 else None
        return self._set_image(results, img, full)

    def _refuse(self, results: dict, err: BadImageError) -> Optional[dict]:
        self.num_failed += 1
        if self.on_error == 'raise':
            raise err
        if self.num_failed <= self.log_first:
            action = 'skipped' if self.on_error == 'skip' else 'marked'
            print_log(
                f'SafeLoadImage: {action} {err}', logger='current', level=30
            )
        if self.on_error == 'skip':
            self._pending.append(str(err))
            return None
        h, w = self.placeholder_size
        img = np.empty((h, w, 3), np.uint8)
        img[...] = (
            self.background[::-1]
            if self.channel_order == 'bgr'
            else self.background
        )
        if self.to_float32:
            img = img.astype(np.float32)
        results['load_error'] = err.reason
        if 'gt_attr_mask' in results:
            results['gt_attr_mask'] = np.zeros_like(results['gt_attr_mask'])
        return self._set_image(results, img)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(on_error={self.on_error!r}, '
            f'max_pixels={self.max_pixels}, min_size={self.min_size}, '
            f'background={self.background}, '
            f'channel_order={self.channel_order!r}, '
            f'decode_scale={self.decode_scale})'
        )
