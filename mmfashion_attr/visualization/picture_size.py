"""Sizes and saving of the pictures the tools write.

A CAM or prediction picture of a phone photo at full resolution is tens of
megabytes and shows nothing more than one at the network's input size, so
pictures are shrunk to fit ``max_size`` (by default the side of the square
network input, :func:`network_input_size`) and never enlarged.
:func:`save_picture` fails loudly where ``cv2.imwrite`` only returns
``False``.
"""

from __future__ import annotations

import os.path as osp
from typing import Optional

import cv2
import numpy as np


def network_input_size(pipeline) -> Optional[int]:
    """Side of the square network input: the ``scale`` of the pipeline's
    ``ResizePad``, or None without one."""
    for t in getattr(pipeline, 'transforms', []):
        if type(t).__name__ == 'ResizePad':
            return int(t.scale)
    return None


def fit_within(image: np.ndarray, max_size: Optional[int]) -> np.ndarray:
    """``image`` shrunk (area interpolation, aspect kept) so that its longer
    side is at most ``max_size``; unchanged when it already fits or when
    ``max_size`` is None."""
    h, w = image.shape[:2]
    if max_size is None or max(h, w) <= max_size:
        return image
    if max_size < 1:
        raise ValueError(f'max_size must be positive, not {max_size}')
    f = max_size / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def save_picture(path: str, image: np.ndarray) -> None:
    """Write an image file and make sure it was written.

    Raises:
        OSError: The folder does not exist, the extension has no writer, or
            ``cv2.imwrite`` failed (the message names the file).
    """
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise OSError(f'{path}: the folder {folder} does not exist')
    try:
        ok = cv2.imwrite(path, image)
    except cv2.error as e:
        msg = str(e).strip().splitlines()[-1]
        raise OSError(f'{path}: cannot be written ({msg})') from None
    if not ok or not osp.isfile(path):
        raise OSError(
            f'{path}: cannot be written (cv2.imwrite failed; is the '
            'folder writable and the extension an image format?)'
        )


__all__ = ['fit_within', 'network_input_size', 'save_picture']
