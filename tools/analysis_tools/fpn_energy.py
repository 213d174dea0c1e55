"""How much of each FPN level comes from the top-down path, on real images.

    python tools/analysis_tools/fpn_energy.py CONFIG [CHECKPOINT] \\
        [--split val] [--num-images 256] [--out energy.json]

For every FPN level below the top, the sum entering the level's output conv
is ``lateral + top_down``; the tool prints the mean squared value of each
term and the top-down share, of the energy and of the spatial variance
(what differs from place to place: where a small region's detail lives).
Without CHECKPOINT the model is measured at its initialisation. The config
must have an FPN (mmdet's ``FPN`` or a subclass) in ``model.neck``.
"""

import argparse
import json
import sys

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis.attribute_extractor import init_attribute_model
from mmfashion_attr.models.utils import FPNPathEnergy
from mmfashion_attr.utils.compat import get_mmdet_fpn


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', help='default: initialisation')
    p.add_argument('--split', choices=('train', 'val', 'test'), default='val')
    p.add_argument('--num-images', type=int, default=256)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0, help='for initialisation')
    p.add_argument('--out', help='write the table as JSON here')
    p.add_argument(
        '--schema',
        help='schema.json the checkpoint was trained with (required for '
        'a checkpoint without a saved schema)',
    )
    return p.parse_args(argv)


def find_fpn(model: torch.nn.Module) -> torch.nn.Module:
    """The first mmdet FPN (or subclass) in the model's neck."""
    fpn_type = get_mmdet_fpn()
    for module in model.neck.modules():
        if isinstance(module, fpn_type):
            return module
    raise ValueError('the model has no FPN in its neck')


def measure(model, fpn, dataloader, num_images: int) -> list:
    """Run the backbone on up to ``num_images`` images of ``dataloader`` and
    measure ``fpn``, the model's FPN."""
    energy = FPNPathEnergy(fpn)
    seen = 0
    with torch.no_grad():
        for batch in dataloader:
            data = model.data_preprocessor(batch, False)
            inputs = data['inputs'][: num_images - seen]
            energy.update(model.backbone(inputs))
            seen += inputs.shape[0]
            if seen >= num_images:
                break
    return energy.results()


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    torch.manual_seed(args.seed)
    try:
        model = init_attribute_model(cfg, args.checkpoint, schema=args.schema)
        fpn = find_fpn(model)
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {args.config}: {e}', file=sys.stderr)
        return 2
    loader_cfg = cfg.get(f'{args.split}_dataloader').copy()
    loader_cfg.update(batch_size=args.batch_size, num_workers=0)
    loader_cfg.pop('persistent_workers', None)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(loader_cfg)
    rows = measure(model, fpn, loader, args.num_images)
    if not rows:
        print('error: no image was measured', file=sys.stderr)
        return 1
    print(
        f'{"level":>5} {"images":>6} {"lateral":>10} {"top_down":>10} '
        f'{"share":>6} {"spatial share":>13}'
    )
    for r in rows:
        print(
            f'{r["level"]:>5} {r["images"]:>6} {r["lateral"]:>10.4g} '
            f'{r["top_down"]:>10.4g} {r["top_down_share"]:>6.3f} '
            f'{r["top_down_share_spatial"]:>13.3f}'
        )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
