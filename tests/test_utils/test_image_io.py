"""The one decoding path: hostile files, format allow-list, caps, and the
same pixels for a path, its bytes, a PIL image and an array.

Guards against: a FIFO in the image folder hanging a run forever, a link
to ``/dev/zero`` read until memory runs out, an EPS file named ``.jpg``
handed to Ghostscript, a float TIFF decoded to black in training while
inference refuses it, transparency composited for a path but not for the
same image as bytes or a PIL image, and refusal messages that quote the
first bytes of an unreadable file.
"""

import io
import os
import os.path as osp
import threading

import numpy as np
import pytest
from PIL import Image

from mmfashion_attr.apis import load_image
from mmfashion_attr.datasets.transforms.load_image_tolerant import (
    BadImageError,
    SafeLoadImage,
)
from mmfashion_attr.utils.image_io import (
    decode_image,
    read_image_file,
    sniff_format,
)
from tests.helpers.bad_images import (
    bad_catalogue,
    bomb_png,
    float_tiff,
    loadable_catalogue,
    save_image,
    write_files,
)


def _load(path, **kw):
    return SafeLoadImage(on_error='raise', **kw).load(str(path))


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / 'pipe.jpg'
    os.mkfifo(fifo)
    link = tmp_path / 'link_to_pipe.jpg'
    link.symlink_to(fifo)
    errors = {}

    def load_all():
        for p in (fifo, link):
            try:
                _load(p)
            except BadImageError as e:
                errors[p.name] = e.reason

    t = threading.Thread(target=load_all, daemon=True)
    t.start()
    t.join(60)
    if t.is_alive():  # release the reader before failing
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    assert not t.is_alive(), 'reading a FIFO blocked'
    assert errors == {
        'pipe.jpg': 'not a regular file (a FIFO (named pipe)); only regular '
        'files are read',
        'link_to_pipe.jpg': 'not a regular file (a FIFO (named pipe)); '
        'only regular files are read',
    }


@pytest.mark.skipif(not osp.exists('/dev/zero'), reason='no /dev/zero')
def test_link_to_a_device_is_refused_before_reading(tmp_path):
    link = tmp_path / 'zero.png'
    link.symlink_to('/dev/zero')
    with pytest.raises(BadImageError, match='a character device'):
        _load(link)
    with pytest.raises(ValueError, match='character device'):
        read_image_file(str(link))


def test_byte_cap_is_checked_before_reading(tmp_path):
    data = save_image(Image.new('RGB', (64, 64), (1, 2, 3)), 'BMP')
    path = write_files(str(tmp_path), {'big.bmp': (data,)})['big.bmp']
    assert len(data) > 1000
    with pytest.raises(BadImageError, match='exceeds max_bytes=1000'):
        _load(path, max_bytes=1000)
    assert _load(path, max_bytes=len(data)).shape == (64, 64, 3)


def test_postscript_never_reaches_a_decoder(tmp_path, monkeypatch):
    """Pillow hands EPS to Ghostscript; the magic bytes stop it first."""
    from PIL import EpsImagePlugin

    opened = []
    monkeypatch.setattr(
        EpsImagePlugin.EpsImageFile,
        '_open',
        lambda self: opened.append(self) or (_ for _ in ()).throw(OSError),
    )
    data = bad_catalogue()['eps.jpg'][0]
    path = write_files(str(tmp_path), {'eps.jpg': (data,)})['eps.jpg']
    with pytest.raises(BadImageError, match='PostScript / EPS') as e:
        _load(path)
    assert 'allowed: JPEG, PNG, WebP, BMP, TIFF, GIF' in str(e.value)
    assert opened == []
    with pytest.raises(BadImageError, match='PostScript'):
        load_image(data)


def test_messages_do_not_quote_the_content(tmp_path):
    secret = b'root:x:0:0:root:/root:/bin/bash\n'
    path = write_files(str(tmp_path), {'passwd.jpg': (secret,)})['passwd.jpg']
    with pytest.raises(BadImageError) as e:
        _load(path)
    assert 'root' not in e.value.reason and 'text' in e.value.reason


def test_pixel_cap_does_not_depend_on_pillow_globals(monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', None)
    with pytest.raises(ValueError, match='exceeds max_pixels'):
        decode_image(bomb_png(30000, 30000))
    assert Image.MAX_IMAGE_PIXELS is None  # left as the caller set it


def test_pixel_cap_is_checked_before_any_decoding(tmp_path, monkeypatch):
    """A header claiming more pixels than ``max_pixels`` (below Pillow's
    own error limit) is refused for training and inference without a
    decoder being run on it (cv2 allocated 3.5 GB for such a file)."""
    import cv2
    from PIL import ImageFile

    decoded = []
    load, imdecode = ImageFile.ImageFile.load, cv2.imdecode
    monkeypatch.setattr(
        ImageFile.ImageFile,
        'load',
        lambda self: decoded.append('pillow') or load(self),
    )
    monkeypatch.setattr(
        cv2, 'imdecode', lambda *a: decoded.append('cv2') or imdecode(*a)
    )
    data = bomb_png(10000, 10000)
    path = write_files(str(tmp_path), {'big.png': (data,)})['big.png']
    for item in (path, data, Image.open(io.BytesIO(data))):
        with pytest.raises(BadImageError, match='exceeds max_pixels'):
            load_image(item)
    assert SafeLoadImage(on_error='skip').transform(dict(img_path=path)) is (
        None
    )
    assert decoded == []
    small = save_image(Image.new('RGB', (2, 2)), 'PNG')
    assert load_image(small).shape == (2, 2, 3)
    assert set(decoded) == {'pillow'}  # the spy sees a real decode


def test_float_images_refused_in_training_and_inference(tmp_path):
    path = write_files(str(tmp_path), {'f.tif': (float_tiff(),)})['f.tif']
    with pytest.raises(BadImageError, match='floating-point'):
        _load(path)
    assert SafeLoadImage(on_error='skip').transform(dict(img_path=path)) is (
        None
    )
    with pytest.raises(BadImageError, match='floating-point'):
        load_image(path)
    with pytest.raises(BadImageError, match='floating-point'):
        load_image(np.full((4, 4, 3), 0.5, np.float32))


@pytest.mark.parametrize('name', sorted(loadable_catalogue()))
def test_path_bytes_pil_and_array_give_the_same_pixels(tmp_path, name):
    """EXIF orientation, transparency and bit depth are handled alike for
    every input type (the file's pixels are the reference)."""
    data = loadable_catalogue()[name][0]
    path = write_files(str(tmp_path), {name: (data,)})[name]
    ref = load_image(path)
    assert np.array_equal(load_image(data), ref)
    assert np.array_equal(load_image(Image.open(io.BytesIO(data))), ref)
    assert np.array_equal(load_image(ref.copy()), ref)


def test_bgra_array_is_composited_like_the_file():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0] = (255, 0, 0, 255)  # opaque red
    rgba[1] = (255, 0, 0, 0)  # transparent red: the white page shows
    png = save_image(Image.fromarray(rgba, 'RGBA'), 'PNG')
    bgra = np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])
    expected = np.array(
        [[[0, 0, 255]] * 2, [[255, 255, 255]] * 2], np.uint8
    )  # BGR
    for item in (png, Image.fromarray(rgba, 'RGBA'), bgra):
        assert np.array_equal(load_image(item), expected), type(item)


def test_sixteen_bit_array_scaled_like_a_file():
    arr = np.full((2, 3), 128 * 257, np.uint16)
    assert (load_image(arr) == 128).all()


def test_non_ascii_file_names(tmp_path):
    data = save_image(Image.new('RGB', (3, 2), (0, 0, 255)), 'PNG')
    name = 'blusa_añil_青い_ü.png'
    path = write_files(str(tmp_path / 'Größe'), {name: (data,)})[name]
    assert _load(path).shape == (2, 3, 3)
    assert (load_image(path) == (255, 0, 0)).all()  # blue, BGR


def test_sniffing_uses_content_not_extension():
    png = save_image(Image.new('RGB', (1, 1)), 'PNG')
    assert sniff_format(png[:16]) == 'PNG'
    jpeg = save_image(Image.new('RGB', (1, 1)), 'JPEG')
    assert sniff_format(jpeg[:16]) == 'JPEG'
    assert sniff_format(b'%!PS-Adobe') is None
    assert sniff_format(b'') is None
    # a PNG named .jpg loads; a PDF named .png does not
    assert decode_image(png).shape == (1, 1, 3)
    with pytest.raises(ValueError, match='PDF'):
        decode_image(bad_catalogue()['pdf.png'][0])
