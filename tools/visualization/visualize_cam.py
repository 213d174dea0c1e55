"""Grad-CAM of one attribute value on an image.

    python tools/visualization/visualize_cam.py CONFIG CHECKPOINT IMAGE \\
        --attribute sleeve_length --value long --out cam.png \\
        [--layer backbone --level -1]

``--layer`` is a module name of the model: ``backbone`` (its taps; ``--level``
picks one, default the last), ``neck.0`` (FPN levels), ``neck.1``
(scale-wise CBAM levels), ... Without ``--value`` the attribute's
highest-scoring value is used. The picture shows the image and the CAM
blended over it, with the value's score; each half is shrunk to
``--max-size`` pixels on its longer side (default: the network's input
size, e.g. 384; smaller images keep their size). The output folder must
exist; exit status 1 when the picture cannot be written.
"""

import argparse
import os.path as osp
import sys

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import AttributeExtractor
from mmfashion_attr.visualization import attribute_cam, save_picture


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('image')
    p.add_argument('--attribute', required=True)
    p.add_argument('--value', help='default: the highest-scoring value')
    p.add_argument('--layer', default='backbone')
    p.add_argument('--level', type=int, default=-1)
    p.add_argument('--category', help='product category (metadata only)')
    p.add_argument('--out', required=True, help='output .png')
    p.add_argument(
        '--max-size',
        type=int,
        help='longer side of each half of the picture (default: the '
        "network's input size)",
    )
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    folder = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(folder):
        print(
            f'error: {args.out}: the folder {folder} does not exist',
            file=sys.stderr,
        )
        return 1
    ex = AttributeExtractor(
        args.config,
        args.checkpoint,
        device=args.device,
        thresholds=0.0,
        return_scores=True,
    )
    value = args.value
    if value is None:
        res = ex(args.image)[0]
        if 'error' in res:
            raise SystemExit(f'{args.image}: {res["error"]}')
        scores = res['scores'][args.attribute]
        value = max(scores, key=scores.get)
    _, score, picture = attribute_cam(
        ex,
        args.image,
        args.attribute,
        value,
        args.layer,
        args.level,
        args.category,
        args.max_size,
    )
    try:
        save_picture(args.out, picture)
    except OSError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    h, w = picture.shape[:2]
    print(
        f'{args.attribute}={value} score {score:.3f} -> {args.out} ({w}x{h})'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
