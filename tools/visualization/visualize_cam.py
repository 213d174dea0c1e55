"""Grad-CAM of one attribute value on an image.

    python tools/visualization/visualize_cam.py CONFIG CHECKPOINT IMAGE \\
        --attribute sleeve_length --value long --out cam.png \\
        [--layer backbone --level -1]

``--layer`` is a module name of the model: ``backbone`` (its taps; ``--level``
picks one, default the last), ``neck.0`` (FPN levels), ``neck.1``
(scale-wise CBAM levels), ... Without ``--value`` the attribute's
highest-scoring value is used. The picture shows the image and the CAM
blended over it, with the value's score.
"""

import argparse

import cv2

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import AttributeExtractor
from mmfashion_attr.visualization import attribute_cam


def main(argv=None):
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
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
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
    )
    cv2.imwrite(args.out, picture)
    print(f'{args.attribute}={value} score {score:.3f} -> {args.out}')


if __name__ == '__main__':
    main()
