"""Generated image files for the bad-input tests: odd but loadable images
(with what they must load as) and unusable ones (with the reason a loader
must give). Every file is made here with Pillow / numpy / cv2."""

import io
import os
import os.path as osp
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
META_KEYS = (
    'sample_idx',
    'img_path',
    'ori_shape',
    'img_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'category_idx',
    'load_error',
    'skipped_images',
)


def save_image(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', crc)


def bomb_png(w: int, h: int) -> bytes:
    """A valid PNG header claiming ``w x h`` RGB pixels, ~70 bytes."""
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)
    return (
        b'\x89PNG\r\n\x1a\n'
        + _png_chunk(b'IHDR', ihdr)
        + _png_chunk(b'IDAT', zlib.compress(b'\x00' * 64))
        + _png_chunk(b'IEND', b'')
    )


def _noise_jpeg() -> bytes:
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    return save_image(Image.fromarray(noise), 'JPEG', quality=95)


def _exif_rotated() -> bytes:
    """Stored 40 wide x 20 high, left half red, right half blue, EXIF
    orientation 6 (display = stored rotated 90 degrees clockwise)."""
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = RED
    a[:, 20:] = BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    return save_image(
        Image.fromarray(a),
        'JPEG',
        quality=100,
        subsampling=0,
        exif=exif.tobytes(),
    )


def _palette_transparent() -> bytes:
    """Palette PNG: left half index 0 (black, transparent), right half
    index 1 (red)."""
    p = Image.new('P', (8, 4), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.paste(1, (4, 0, 8, 4))
    return save_image(p, 'PNG', transparency=0)


def _rgba() -> bytes:
    a = np.zeros((4, 8, 4), np.uint8)  # transparent black
    a[:, 4:] = (255, 0, 0, 128)  # half-transparent red
    return save_image(Image.fromarray(a, 'RGBA'), 'PNG')


def _la() -> bytes:
    a = np.zeros((4, 4, 2), np.uint8)
    a[..., 0] = 10
    a[:, 2:, 1] = 255  # right half opaque dark grey, left transparent
    return save_image(Image.fromarray(a, 'LA'), 'PNG')


def _rgb16_png() -> bytes:
    a = np.zeros((4, 4, 3), np.uint16)
    a[..., 2] = 65535  # BGR for cv2: red
    a[..., 1] = 32896  # 128 * 257
    return cv2.imencode('.png', a)[1].tobytes()


# name -> (bytes, expected RGB image or a check); loadable, odd inputs
def loadable_catalogue():
    gray16 = np.full((4, 6), 128 * 257, np.uint16)
    return {
        'cmyk.jpg': (
            save_image(
                Image.new('CMYK', (8, 8), (0, 255, 255, 0)),
                'JPEG',
                quality=100,
            ),
            np.full((8, 8, 3), RED, np.uint8),
            2,
        ),
        'gray16.png': (
            save_image(Image.fromarray(gray16), 'PNG'),
            np.full((4, 6, 3), 128, np.uint8),
            0,
        ),
        'rgb16.png': (
            _rgb16_png(),
            np.full((4, 4, 3), (255, 128, 0), np.uint8),
            0,
        ),
        'palette_transparent.png': (
            _palette_transparent(),
            np.concatenate(
                [
                    np.full((4, 4, 3), WHITE, np.uint8),
                    np.full((4, 4, 3), RED, np.uint8),
                ],
                1,
            ),
            0,
        ),
        'rgba.png': (
            _rgba(),
            np.concatenate(
                [
                    np.full((4, 4, 3), WHITE, np.uint8),
                    np.full((4, 4, 3), (255, 127, 127), np.uint8),
                ],
                1,
            ),
            1,
        ),
        'la.png': (
            _la(),
            np.concatenate(
                [
                    np.full((4, 2, 3), 255, np.uint8),
                    np.full((4, 2, 3), 10, np.uint8),
                ],
                1,
            ),
            0,
        ),
        'gray.jpg': (
            save_image(Image.new('L', (6, 6), 77), 'JPEG', quality=100),
            np.full((6, 6, 3), 77, np.uint8),
            2,
        ),
        'exif_rotated.jpg': (
            _exif_rotated(),
            np.rot90(
                np.concatenate(
                    [
                        np.full((20, 20, 3), RED, np.uint8),
                        np.full((20, 20, 3), BLUE, np.uint8),
                    ],
                    1,
                ),
                k=-1,
            ),
            8,
        ),
        '1x1.png': (
            save_image(Image.new('RGB', (1, 1), BLUE), 'PNG'),
            np.full((1, 1, 3), BLUE, np.uint8),
            0,
        ),
        'banner.png': (
            save_image(Image.new('RGB', (20000, 3), RED), 'PNG'),
            np.full((3, 20000, 3), RED, np.uint8),
            0,
        ),
    }


# name -> (bytes, words the reason must contain); unusable inputs
def bad_catalogue():
    jpeg = _noise_jpeg()
    png = bytearray(
        save_image(
            Image.fromarray(
                np.random.default_rng(1).integers(
                    0, 255, (64, 64, 3), np.uint8
                )
            ),
            'PNG',
        )
    )
    png[60:90] = b'\xff' * 30  # inside the compressed image data
    return {
        'zero.jpg': (b'', 'empty file'),
        'html.jpg': (
            b'<html><body>404 Not Found</body></html>\n',
            'not an image',
        ),
        'truncated.jpg': (jpeg[: len(jpeg) // 2], 'truncated'),
        'corrupt.png': (bytes(png), 'corrupt'),
        'bomb.png': (bomb_png(30000, 30000), 'decompression bomb'),
        # above our max_pixels default, below Pillow's own error limit
        'bomb_100mp.png': (bomb_png(10000, 10000), 'max_pixels'),
    }


def write_files(folder, files) -> dict:
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for name, (data, *_) in files.items():
        paths[name] = osp.join(folder, name)
        with open(paths[name], 'wb') as f:
            f.write(data)
    return paths
