"""Input pipeline throughput per worker: decode + paper augmentation + resize.

Generates realistic product JPEGs (~800x1000, garments on clutter, quality
90), then times, in one process with one thread (a dataloader worker):

* ``decode``            cv2.imread alone: the floor;
* ``affine_first``      full decode, affine on the full image, flip, resize
                        (warping the full-size photo);
* ``resize_first``      full decode, resize to 384 with padding, then the
                        affine and flip at 384 px (the configs' order);
* ``reduced_decode``    as ``resize_first``, but the JPEG is decoded at 1/2,
                        1/4 or 1/8 size (libjpeg DCT scaling) when the image
                        stays at least ``scale`` pixels on its longer side;
* ``simplejpeg_reduced`` as ``reduced_decode`` with simplejpeg (a
  libjpeg-turbo binding on PyPI) when it is installed;
* the same through the registered transforms (``SafeLoadImage`` with
  ``decode_scale``) when available.

Prints images/s per worker and writes JSON.

    python tools/analysis_tools/benchmark_pipeline.py --num 200 --scale 384
"""

import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np

from mmfashion_attr.datasets.transforms.load_image_tolerant import (
    jpeg_reduction,
)
from tools.common.benchmarking import REPO

cv2.setNumThreads(1)
os.environ.setdefault('OMP_NUM_THREADS', '1')


def make_jpegs(folder, num, seed=0, size=(800, 1000)):
    """Garments from the synthetic generator, rendered large, as JPEGs."""
    from mmfashion_attr.datasets.synthetic import render_garment, sample_spec

    w, h = size
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(num):
        spec = sample_spec(rng)
        other = sample_spec(rng, exclude=[spec.category])
        img = render_garment(spec, h, rng, 1.0, 0.5, other)
        img = img[0] if isinstance(img, tuple) else img
        x0 = (h - w) // 2
        img = np.ascontiguousarray(img[:, x0 : x0 + w])
        p = osp.join(folder, f'{i:05d}.jpg')
        if not cv2.imwrite(p, img, [cv2.IMWRITE_JPEG_QUALITY, 90]):
            raise OSError(f'{p}: cannot be written')
        paths.append(p)
    return paths


REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def reduced_imread(path, scale, size_hint):
    """Decode at the largest DCT reduction keeping max side >= scale."""
    h, w = size_hint
    factor = jpeg_reduction(w, h, scale)
    if factor == 1:
        return cv2.imread(path, cv2.IMREAD_COLOR)
    return cv2.imread(path, REDUCED[factor])


def paper_augmentation():
    """The augmentation steps (affine, flip) of the paper's catalog config
    (``configs/_base_/datasets/catalog_384px.py``), as it trains."""
    from mmengine.config import Config

    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'catalog_384px.py')
    )
    aug = [
        t
        for t in cfg.train_pipeline
        if t['type'] in ('FashionRandomAffine', 'RandomFlip')
    ]
    assert len(aug) == 2, cfg.train_pipeline
    return aug


def build(cfgs):
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS

    return Compose([TRANSFORMS.build(c) for c in cfgs])


def run(name, fn, paths, repeat):
    fn(paths[0])  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        for p in paths:
            fn(p)
    dt = time.perf_counter() - t
    return dict(variant=name, img_per_s=repeat * len(paths) / dt)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num', type=int, default=100)
    parser.add_argument('--scale', type=int, default=384)
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--dir', help='reuse/keep the JPEGs here')
    parser.add_argument('--out', help='write JSON here')
    args = parser.parse_args(argv)

    import mmfashion_attr  # noqa: F401  (registers the transforms)

    folder = args.dir or tempfile.mkdtemp(prefix='pipe_bench_')
    os.makedirs(folder, exist_ok=True)
    paths = sorted(
        osp.join(folder, f) for f in os.listdir(folder) if f.endswith('.jpg')
    )[: args.num]
    if len(paths) < args.num:
        paths = make_jpegs(folder, args.num)
    probe = cv2.imread(paths[0])
    size_hint = probe.shape[:2]
    print(
        f'{len(paths)} JPEGs of {size_hint[1]}x{size_hint[0]} in {folder}',
        file=sys.stderr,
    )

    s = args.scale
    aug = paper_augmentation()
    resize = [dict(type='ResizePad', scale=s)]
    affine_first = build(aug + resize)
    resize_first = build(resize + aug)

    def with_pipe(pipe, img):
        return pipe(
            dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        )

    np.random.seed(0)
    rows = [
        run(
            'decode',
            lambda p: cv2.imread(p, cv2.IMREAD_COLOR),
            paths,
            args.repeat,
        ),
        run(
            'affine_first',
            lambda p: with_pipe(affine_first, cv2.imread(p)),
            paths,
            args.repeat,
        ),
        run(
            'resize_first',
            lambda p: with_pipe(resize_first, cv2.imread(p)),
            paths,
            args.repeat,
        ),
        run(
            'reduced_decode',
            lambda p: with_pipe(resize_first, reduced_imread(p, s, size_hint)),
            paths,
            args.repeat,
        ),
    ]
    try:  # a libjpeg-turbo binding from PyPI, when installed
        import simplejpeg

        def turbo(p):
            with open(p, 'rb') as f:
                data = f.read()
            h, w = size_hint
            k = jpeg_reduction(w, h, s)
            img = simplejpeg.decode_jpeg(
                data, colorspace='BGR', min_height=h // k, min_width=w // k
            )
            return with_pipe(resize_first, img)

        rows.append(run('simplejpeg_reduced', turbo, paths, args.repeat))
    except ImportError:
        print('simplejpeg not installed: skipped', file=sys.stderr)
    try:
        load = build(
            [dict(type='SafeLoadImage', decode_scale=s)] + resize + aug
        )
        rows.append(
            run(
                'SafeLoadImage(decode_scale)',
                lambda p: load(dict(img_path=p)),
                paths,
                args.repeat,
            )
        )
    except Exception as e:  # transform or option not available
        print(f'SafeLoadImage(decode_scale) skipped: {e}', file=sys.stderr)
    floor = rows[0]['img_per_s']
    print(f'{"variant":<28} {"img/s/worker":>13} {"vs decode":>10}')
    for r in rows:
        r['vs_decode'] = r['img_per_s'] / floor
        print(
            f'{r["variant"]:<28} {r["img_per_s"]:>13.1f} '
            f'{r["vs_decode"]:>10.2f}'
        )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(num=len(paths), size=size_hint, scale=s, rows=rows),
                f,
                indent=1,
            )
    return rows


if __name__ == '__main__':
    main()
