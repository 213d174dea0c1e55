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

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmpretrain.registry import TRANSFORMS

from ...utils.image_io import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    array_to_bgr,
    decode_image,
    jpeg_reduction,
    pil_to_rgb,
    read_image_file,
)

ON_ERROR = ('raise', 'skip', 'mark')


class BadImageError(ValueError):
    """An image file that cannot be used; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f'{path}: {reason}')


@TRANSFORMS.register_module()
class SafeLoadImage(BaseTransform):
    """Load an image tolerantly; raise, skip or mark files that cannot be
    used.

    A drop-in for mmcv's ``LoadImageFromFile`` (same output: ``img`` as
    ``(H, W, 3)`` uint8 BGR, ``img_shape``, ``ori_shape``) that reads and
    decodes through :mod:`mmfashion_attr.utils.image_io`, the package's one
    decoding path (inference and the dataset checker use it too):

    * reads regular files only (a FIFO, a device or a link to one is
      refused before it is opened) of at most ``max_bytes`` bytes;
    * decodes only JPEG, PNG, WebP, BMP, TIFF and GIF (first frame),
      detected from the magic bytes (PostScript / EPS, PDF and other
      formats never reach a decoder);
    * refuses, without decoding, images of more than ``max_pixels`` pixels
      (decompression bombs) and images smaller than ``min_size``;
    * applies the EXIF orientation; converts CMYK, palette, grayscale and
      16-bit images to 8-bit colour; composites transparent pixels (RGBA,
      LA, palette or ``tRNS`` transparency) onto ``background`` (white)
      instead of showing whatever colour the seller's tool left under
      them; refuses floating-point images (no defined 0-255 range);
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
    * ``'mark'`` (validation, test): the sample keeps its place (the
      dataset size does not change), with a ``placeholder_size`` image of
      the ``background`` colour, ``load_error`` set to the reason and
      ``gt_attr_mask`` zeroed, so the sample is unlabelled: no loss, and
      :class:`AttributeMetric` counts none of its entries.

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
        max_bytes: Largest file read, in bytes. Defaults to 512 MiB.
            None: no limit.
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
        max_bytes: Optional[int] = DEFAULT_MAX_BYTES,
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
        self.max_bytes = None if max_bytes is None else int(max_bytes)
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

    # ------------------------------------------------------------ loading
    def decode(self, data: bytes, info: Optional[dict] = None) -> np.ndarray:
        """Encoded image bytes as ``img`` is stored (channel order, dtype);
        ``ValueError`` with the reason if they cannot be used."""
        rgb = decode_image(
            data,
            max_pixels=self.max_pixels,
            min_size=self.min_size,
            background=self.background,
            exif_transpose=self.exif_transpose,
            decode_scale=self.decode_scale,
            info=info,
        )
        return self._from_rgb(rgb)

    def _from_rgb(self, rgb: np.ndarray) -> np.ndarray:
        # cv2's conversion: 50x faster than copying the reversed view
        img = (
            cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
            if self.channel_order == 'bgr'
            else np.ascontiguousarray(rgb)
        )
        return img.astype(np.float32) if self.to_float32 else img

    def load(self, path: str, info: Optional[dict] = None) -> np.ndarray:
        """The image at ``path`` as ``img`` is stored; raise
        :class:`BadImageError` if it cannot be used. ``info`` receives the
        full size and the JPEG reduction (see :func:`decode_image`)."""
        try:
            data = read_image_file(path, self.max_bytes, self.backend_args)
        except FileNotFoundError:
            raise BadImageError(path, 'cannot read: no such file') from None
        except ValueError as e:
            raise BadImageError(path, str(e)) from None
        except Exception as e:
            raise BadImageError(
                path, f'cannot read ({type(e).__name__}: {e})'
            ) from None
        try:
            return self.decode(data, info)
        except ValueError as e:
            raise BadImageError(path, str(e)) from None

    def load_input(
        self, item: Any, name: Optional[str] = None
    ) -> Tuple[np.ndarray, Tuple[int, int]]:
        """Any input of inference as ``img`` is stored, through the same
        checks and conversions as a file.

        Args:
            item: A path (or mmengine URI), encoded image bytes, a
                ``PIL.Image`` (converted as its file would be: EXIF
                orientation, transparency on ``background``) or an array in
                OpenCV's conventions (``H x W`` grey, ``H x W x 3`` BGR,
                ``H x W x 4`` BGRA composited on ``background``; uint8 or
                uint16).
            name: What the error calls the input. Defaults to the path, or
                the input's type.

        Returns:
            ``(img, ori_shape)``: ``ori_shape`` is the full stored size
            when a JPEG was decoded at a reduced size.

        Raises:
            BadImageError: The input cannot be used (with the reason).
            TypeError: Unsupported input type.
        """
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            info: dict = {}
            img = self.load(path, info)
            full = info['size'] if info.get('reduction', 1) > 1 else None
            return img, full or img.shape[:2]
        name = name or f'<{type(item).__name__}>'
        try:
            if isinstance(item, (bytes, bytearray, memoryview)):
                info = {}
                img = self.decode(bytes(item), info)
                full = info['size'] if info.get('reduction', 1) > 1 else None
                return img, full or img.shape[:2]
            if type(item).__module__.startswith('PIL.'):
                img = self._from_rgb(
                    pil_to_rgb(
                        item,
                        max_pixels=self.max_pixels,
                        min_size=self.min_size,
                        background=self.background,
                        exif_transpose=self.exif_transpose,
                    )
                )
                return img, img.shape[:2]
            if isinstance(item, np.ndarray):
                bgr = array_to_bgr(
                    item,
                    max_pixels=self.max_pixels,
                    min_size=self.min_size,
                    background=self.background,
                )
                img = (
                    bgr
                    if self.channel_order == 'bgr'
                    else np.ascontiguousarray(bgr[..., ::-1])
                )
                img = img.astype(np.float32) if self.to_float32 else img
                return img, img.shape[:2]
        except ValueError as e:
            raise BadImageError(name, str(e)) from None
        raise TypeError(f'unsupported input type {type(item).__name__}')

    # ---------------------------------------------------------- transform
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
        try:
            img, ori_shape = self.load_input(str(path))
        except BadImageError as e:
            return self._refuse(results, e)
        if self._pending:
            results['skipped_images'] = self._pending
            self._pending = []
        return self._set_image(results, img, ori_shape)

    def _refuse(self, results: dict, err: BadImageError) -> Optional[dict]:
        self.num_failed += 1
        if self.on_error == 'raise':
            raise err
        if self.num_failed <= self.log_first:
            action = 'skipped' if self.on_error == 'skip' else 'marked'
            # numbered: mmengine's logger drops a repeated identical warning
            print_log(
                f'SafeLoadImage: {action} #{self.num_failed} {err}',
                logger='current',
                level=30,
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
            f'max_pixels={self.max_pixels}, max_bytes={self.max_bytes}, '
            f'min_size={self.min_size}, background={self.background}, '
            f'channel_order={self.channel_order!r}, '
            f'decode_scale={self.decode_scale})'
        )


__all__ = ['BadImageError', 'SafeLoadImage', 'decode_image', 'jpeg_reduction']
