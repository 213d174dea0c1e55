"""The one image-decoding path of the package.

Training and evaluation (``SafeLoadImage``), inference
(``AttributeExtractor``, ``tools/misc/infer.py``) and the dataset checker
(``tools/dataset_converters/check.py --images decode``) all read and decode
images through these functions, so an image refused by one is refused by
all, and an image accepted by one becomes the same pixels in all.

What is guaranteed, for untrusted files:

* **regular files only**: a FIFO, a device, a socket or a directory (or a
  link to one) is refused from ``os.stat`` before it is opened, and the
  file is opened with ``O_NONBLOCK`` and checked again with ``fstat``, so
  a file swapped for a FIFO in between cannot block the reader;
* **a byte cap** (``max_bytes``, default 512 MiB: every 8-bit RGBA image
  under the pixel cap fits, even uncompressed), checked on the size before
  reading and on what was read;
* **an allow-list of formats** detected from the magic bytes, never from
  the extension: JPEG (MPO camera files included, first picture), PNG,
  WebP, BMP, TIFF, GIF (first frame). Pillow is told to try only the
  plugin of the detected format, so PostScript / EPS (which Pillow hands
  to Ghostscript), PDF and every other format never reach a decoder;
* **a pixel cap** (``max_pixels``, default 89,478,485 as Pillow's own
  default) checked on the header, before any pixel is decoded. It does
  not depend on Pillow's global ``Image.MAX_IMAGE_PIXELS`` (which is left
  as it is): setting that to None elsewhere does not switch this one off;
* **one conversion to 8-bit RGB** for files, bytes, ``PIL.Image`` objects
  and arrays: EXIF orientation applied, transparency (RGBA, LA, palette or
  ``tRNS``, BGRA arrays) composited onto ``background``, 16-bit images
  scaled (65535 -> 255). Floating-point images (32-bit float TIFF, float
  arrays) are refused: they have no defined 0-255 range, and guessing one
  decodes them to black or white.

A refusal is a :class:`ValueError` whose message is the reason; it never
quotes the file's content.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from typing import Any, Optional, Tuple

import numpy as np
from PIL import Image, ImageOps

#: Pillow's own default ``Image.MAX_IMAGE_PIXELS`` (about 89.5 MP).
DEFAULT_MAX_PIXELS = 89_478_485
#: 512 MiB: an uncompressed 8-bit RGBA image of ``DEFAULT_MAX_PIXELS``
#: pixels (358 MB) fits.
DEFAULT_MAX_BYTES = 512 * 2**20
#: Pillow format names that are decoded (``MPO``: JPEG with a second
#: picture, as phone cameras write; the first picture is used).
ALLOWED_FORMATS = ('JPEG', 'MPO', 'PNG', 'WEBP', 'BMP', 'TIFF', 'GIF')
#: File extensions of the allowed formats (for listing folders).
IMAGE_EXTENSIONS = (
    '.jpg',
    '.jpeg',
    '.jpe',
    '.jfif',
    '.png',
    '.webp',
    '.bmp',
    '.dib',
    '.tif',
    '.tiff',
    '.gif',
)
#: Extensions of image formats that are refused (reported, not ignored,
#: when a folder is listed).
REFUSED_IMAGE_EXTENSIONS = (
    '.jp2',
    '.j2k',
    '.jpx',
    '.jpf',
    '.heic',
    '.heif',
    '.avif',
    '.jxl',
    '.eps',
    '.ps',
    '.pdf',
    '.svg',
    '.ico',
    '.icns',
    '.psd',
    '.tga',
    '.pcx',
    '.ppm',
    '.pgm',
    '.pbm',
    '.pnm',
    '.xbm',
    '.xpm',
    '.dds',
    '.exr',
    '.hdr',
)
_HIGH_BIT = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I')
_ALPHA = ('RGBA', 'LA', 'PA', 'RGBa', 'La')
_FLOAT = ('F',)
_ALLOWED_NAMES = 'JPEG, PNG, WebP, BMP, TIFF, GIF'

# (magic bytes at offset 0, Pillow plugin) of the allowed formats
_ALLOWED_MAGIC = (
    (b'\xff\xd8\xff', 'JPEG'),
    (b'\x89PNG\r\n\x1a\n', 'PNG'),
    (b'GIF87a', 'GIF'),
    (b'GIF89a', 'GIF'),
    (b'II*\x00', 'TIFF'),
    (b'MM\x00*', 'TIFF'),
    (b'BM', 'BMP'),
)
# (magic bytes at offset 0, name) of refused formats, for the message
_REFUSED_MAGIC = (
    (b'%!PS', 'PostScript / EPS'),
    (b'\xc5\xd0\xd3\xc6', 'EPS'),
    (b'%PDF', 'PDF'),
    (b'\x00\x00\x00\x0cjP  ', 'JPEG 2000'),
    (b'\xffO\xffQ', 'JPEG 2000 codestream'),
    (b'\xff\n', 'JPEG XL'),
    (b'\x00\x00\x00\x0cJXL ', 'JPEG XL'),
    (b'II+\x00', 'BigTIFF'),
    (b'MM\x00+', 'BigTIFF'),
    (b'8BPS', 'Photoshop PSD'),
    (b'\x00\x00\x01\x00', 'Windows icon'),
    (b'\x76\x2f\x31\x01', 'OpenEXR'),
    (b'PK\x03\x04', 'ZIP archive'),
    (b'\x1f\x8b', 'gzip archive'),
)


def sniff_format(head: bytes) -> Optional[str]:
    """The Pillow plugin of an allowed format from a file's first bytes
    (16 are enough), or None."""
    for magic, fmt in _ALLOWED_MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'WEBP'
    return None


def describe_refused(head: bytes) -> str:
    """What a file of no allowed format looks like (for the message; the
    content itself is never quoted)."""
    for magic, name in _REFUSED_MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b'ftyp':
        brand = head[8:12]
        if brand in (b'avif', b'avis'):
            return 'AVIF'
        if brand in (b'heic', b'heix', b'mif1', b'msf1', b'hevc'):
            return 'HEIF'
        return 'ISO media (MP4 / HEIF family)'
    text = head.lstrip()[:5].lower()
    if text.startswith((b'<?xml', b'<svg')):
        return 'XML / SVG'
    if text.startswith((b'<!doc', b'<html', b'<head', b'<body')):
        return 'HTML'
    if head and all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return 'text'
    return 'unrecognised format'


# ---------------------------------------------------------------- reading
_KINDS = (
    (stat.S_ISFIFO, 'a FIFO (named pipe)'),
    (stat.S_ISCHR, 'a character device'),
    (stat.S_ISBLK, 'a block device'),
    (stat.S_ISSOCK, 'a socket'),
    (stat.S_ISDIR, 'a directory'),
)


def _file_kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'not a regular file'


def _check_regular(st: os.stat_result, max_bytes: Optional[int]) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f'not a regular file ({_file_kind(st.st_mode)}); only regular '
            'files are read'
        )
    if max_bytes is not None and st.st_size > max_bytes:
        raise ValueError(
            f'{st.st_size} bytes exceeds max_bytes={max_bytes} (not read)'
        )


def is_local_path(path: str, backend_args: Optional[dict] = None) -> bool:
    """Whether ``path`` is read from the local file system (no URI scheme,
    no non-local mmengine backend)."""
    backend = (backend_args or {}).get('backend', 'local')
    return backend == 'local' and '://' not in path


def read_image_file(
    path: str,
    max_bytes: Optional[int] = DEFAULT_MAX_BYTES,
    backend_args: Optional[dict] = None,
) -> bytes:
    """The bytes of an image file, read safely.

    A local path must be a regular file (checked with ``os.stat``, which
    follows links, before opening; opened with ``O_NONBLOCK`` and checked
    again with ``fstat``) of at most ``max_bytes`` bytes. Other URIs
    (``s3://`` ...) are fetched with mmengine's file backends and checked
    against ``max_bytes`` after the transfer.

    Args:
        path: A local path or an mmengine file-backend URI.
        max_bytes: Largest accepted file. None: no limit.
        backend_args: mmengine file backend arguments.

    Raises:
        FileNotFoundError: No such local file.
        ValueError: The reason the file is refused.
    """
    if not is_local_path(path, backend_args):
        from mmengine import fileio

        data = fileio.get(path, backend_args=backend_args)
    else:
        _check_regular(os.stat(path), max_bytes)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, 'rb') as f:
            _check_regular(os.fstat(fd), max_bytes)  # swapped since stat?
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise ValueError(f'more than max_bytes={max_bytes} bytes')
    return data


# --------------------------------------------------------------- decoding
def jpeg_reduction(w: int, h: int, decode_scale: Optional[int]) -> int:
    """The largest libjpeg DCT reduction (1, 2, 4 or 8) that keeps the
    longer side at least ``decode_scale`` pixels."""
    k = 1
    while decode_scale and k < 8 and max(w, h) / (2 * k) >= decode_scale:
        k *= 2
    return k


def _check_size(
    w: int, h: int, max_pixels: Optional[int], min_size: int
) -> None:
    if max_pixels is not None and w * h > max_pixels:
        raise ValueError(
            f'{w}x{h} = {w * h} pixels exceeds max_pixels={max_pixels} '
            '(decompression bomb guard; not decoded)'
        )
    if min(w, h) < min_size:
        raise ValueError(f'{w}x{h} is smaller than min_size={min_size}')


def _to_uint8(arr: np.ndarray, mode: str) -> np.ndarray:
    """8-bit version of a high bit depth single-channel image."""
    if mode.startswith('I;16') or (mode == 'I' and arr.max(initial=0) > 255):
        # 16-bit range onto 8 bits: 65535 -> 255 (like cv2 IMREAD_COLOR)
        arr = (arr.astype(np.float64) / 257.0).round()
    return np.clip(arr, 0, 255).astype(np.uint8)


def composite(
    rgba: np.ndarray, background: Tuple[int, int, int]
) -> np.ndarray:
    """Alpha-composite ``(H, W, 4)`` uint8 colour + alpha onto a solid
    background of the same channel order."""
    rgb = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:].astype(np.uint32)
    bg = np.asarray(background, dtype=np.uint32)
    out = (rgb * alpha + bg * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def _loaded_to_rgb(
    img: Image.Image, background: Tuple[int, int, int], exif_transpose: bool
) -> np.ndarray:
    """A loaded Pillow image as ``(H, W, 3)`` uint8 RGB."""
    if exif_transpose:
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # malformed EXIF: keep the stored orientation
            pass
    mode = img.mode
    if mode in _FLOAT:
        raise ValueError(
            f'floating-point image (mode {mode!r}) refused: it has no '
            'defined 0-255 range; save it with 8 or 16 bits per channel'
        )
    try:
        if mode in _HIGH_BIT:
            gray = _to_uint8(np.asarray(img), mode)
            rgb = np.repeat(gray[..., None], 3, axis=2)
        elif mode in _ALPHA or 'transparency' in img.info:
            rgb = composite(np.asarray(img.convert('RGBA')), background)
        else:  # 1, L, P, RGB, CMYK, YCbCr, ...
            rgb = np.asarray(img.convert('RGB'))
    except Exception as e:
        raise ValueError(
            f'cannot convert mode {mode!r} to RGB ({type(e).__name__}: {e})'
        ) from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'unexpected decoded array {rgb.shape} {rgb.dtype}')
    return rgb


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
            None disables the check (Pillow's own guard at its
            ``MAX_IMAGE_PIXELS`` then applies).
        min_size: Refuse images whose shorter side is below this.
        background: RGB colour transparent pixels are composited onto.
        exif_transpose: Apply the EXIF orientation tag.
        decode_scale: JPEG only: decode at 1/2, 1/4 or 1/8 of the size
            (libjpeg DCT scaling, much faster on large photos) as long as
            the longer side stays at least this many pixels. None: full
            size. The size checks use the full size.
        info: If given, receives ``size`` = the full ``(h, w)`` as stored
            (before EXIF rotation), ``reduction`` = the factor used and
            ``format`` = Pillow's format name.

    Returns:
        The RGB image.

    Raises:
        ValueError: With the reason, for any file that cannot be used.
    """
    if not data:
        raise ValueError('empty file (0 bytes)')
    plugin = sniff_format(bytes(data[:16]))
    if plugin is None:
        raise ValueError(
            f'not an image of an allowed format ({describe_refused(data[:16])}'
            f', {len(data)} bytes); allowed: {_ALLOWED_NAMES}'
        )
    try:
        with warnings.catch_warnings():
            # max_pixels below replaces Pillow's warning
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[plugin])
    except Image.DecompressionBombError as e:
        raise ValueError(
            f'decompression bomb refused by Pillow: {e}'
        ) from None
    except Exception as e:  # corrupt header
        raise ValueError(
            f'corrupt {plugin} header ({type(e).__name__}: {e})'
        ) from None
    if img.format not in ALLOWED_FORMATS:  # never: Pillow tried one plugin
        raise ValueError(f'format {img.format} is not allowed')
    w, h = img.size
    _check_size(w, h, max_pixels, min_size)
    k = jpeg_reduction(w, h, decode_scale) if plugin == 'JPEG' else 1
    if k > 1:
        img.draft(None, (-(-w // k), -(-h // k)))
    if info is not None:
        info.update(size=(h, w), reduction=k, format=img.format)
    _load(img, f'{img.format} data')
    return _loaded_to_rgb(img, background, exif_transpose)


def _load(img: Image.Image, what: str) -> None:
    """Decode ``img``'s pixels; truncated data raises here
    (``LOAD_TRUNCATED_IMAGES`` is off) as a ``ValueError`` naming ``what``."""
    try:
        img.load()
    except Exception as e:
        raise ValueError(
            f'truncated or corrupt {what} ({type(e).__name__}: {e})'
        ) from None


def pil_to_rgb(
    img: Image.Image,
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
    min_size: int = 1,
    background: Tuple[int, int, int] = (255, 255, 255),
    exif_transpose: bool = True,
) -> np.ndarray:
    """A ``PIL.Image`` as ``(H, W, 3)`` uint8 RGB, as :func:`decode_image`
    would decode its file: same format allow-list (for an image opened from
    a file), size checks, EXIF orientation and alpha compositing.

    Raises:
        ValueError: With the reason.
    """
    if img.format is not None and img.format not in ALLOWED_FORMATS:
        raise ValueError(
            f'format {img.format} is not allowed (allowed: {_ALLOWED_NAMES})'
        )
    _check_size(img.width, img.height, max_pixels, min_size)
    _load(img, 'image data')
    return _loaded_to_rgb(img, background, exif_transpose)


def array_to_bgr(
    arr: np.ndarray,
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
    min_size: int = 1,
    background: Tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """An array in OpenCV's conventions (``H x W`` grey, ``H x W x 3``
    BGR, ``H x W x 4`` BGRA; uint8 or uint16) as ``(H, W, 3)`` uint8 BGR.

    BGRA is composited onto ``background`` (given as RGB) like a
    transparent file; uint16 is scaled (65535 -> 255) like a 16-bit file.

    Raises:
        ValueError: With the reason (shape, dtype, size).
    """
    if not isinstance(arr, np.ndarray):
        raise ValueError(f'expected an array, got {type(arr).__name__}')
    img = arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr
    if img.ndim not in (2, 3) or (
        img.ndim == 3 and img.shape[2] not in (3, 4)
    ):
        raise ValueError(
            'expected an H x W, H x W x 3 (BGR) or H x W x 4 (BGRA) array, '
            f'got shape {arr.shape}'
        )
    if img.dtype == np.uint16:
        img = (img.astype(np.float64) / 257.0).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(
            f'expected a uint8 (or uint16) array, got {arr.dtype}'
            + (
                ': floating-point images have no defined 0-255 range'
                if np.issubdtype(arr.dtype, np.floating)
                else ''
            )
        )
    h, w = img.shape[:2]
    _check_size(w, h, max_pixels, min_size)
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
    if img.shape[2] == 4:
        return composite(img, tuple(background[::-1]))
    return np.ascontiguousarray(img)


def read_and_decode(
    path: str,
    max_bytes: Optional[int] = DEFAULT_MAX_BYTES,
    backend_args: Optional[dict] = None,
    **decode_kwargs: Any,
) -> np.ndarray:
    """:func:`read_image_file` then :func:`decode_image` (RGB)."""
    return decode_image(
        read_image_file(path, max_bytes, backend_args), **decode_kwargs
    )


__all__ = [
    'ALLOWED_FORMATS',
    'DEFAULT_MAX_BYTES',
    'DEFAULT_MAX_PIXELS',
    'IMAGE_EXTENSIONS',
    'REFUSED_IMAGE_EXTENSIONS',
    'array_to_bgr',
    'composite',
    'decode_image',
    'describe_refused',
    'is_local_path',
    'jpeg_reduction',
    'pil_to_rgb',
    'read_and_decode',
    'read_image_file',
    'sniff_format',
]
