"""A tiny on-disk catalog for end-to-end tests (images + annotations)."""

import json
import os
import os.path as osp
import textwrap

import cv2
import numpy as np

from .schemas import TINY_SCHEMA

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(
    REPO, 'configs', 'demo', 'approach3_effnetv2-b0_1xb16_synthetic-128px.py'
)


def make_tiny_catalog(root, n=16, size=64, seed=0, drop=('closure',)):
    """Write ``n`` images and train/val catalogs; attributes in ``drop`` are
    missing from every record (a whole batch lacks them)."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'img'), exist_ok=True)
    with open(osp.join(root, 'schema.json'), 'w') as f:
        json.dump(TINY_SCHEMA, f)
    colours = {'red': (0, 0, 255), 'green': (0, 255, 0), 'blue': (255, 0, 0)}
    records = []
    for i in range(n):
        cat = ['top', 'bottom'][i % 2]
        names = sorted(
            rng.choice(list(colours), size=1 + i % 2, replace=False).tolist()
        )
        img = np.full((size, size, 3), 127, np.uint8)
        for k, c in enumerate(names):
            img[k * size // 2 : (k + 1) * size // 2, : size // 2] = colours[c]
        path = f'img/{i:03d}.png'
        cv2.imwrite(osp.join(root, path), img)
        attrs = {'colour': names, 'closure': [['button', 'zip'][i % 2]]}
        for a in drop:
            attrs.pop(a, None)
        records.append(dict(img_path=path, category=cat, attributes=attrs))
    for split in ('train', 'val'):
        with open(osp.join(root, f'{split}.jsonl'), 'w') as f:
            for r in records:
                f.write(json.dumps(r) + '\n')
    return root


def write_tiny_config(root, work_dir, epochs=2, batch=4, extra=''):
    """A config deriving from the demo config, resized to the tiny data."""
    cfg = osp.join(root, 'tiny_cfg.py')
    with open(cfg, 'w') as f:
        f.write(
            textwrap.dedent(f"""
            _base_ = [{DEMO_CFG!r}]
            data_root = {root + '/'!r}
            schema_file = data_root + 'schema.json'
            model = dict(head=dict(schema=schema_file, hidden_channels=8))
            _test = [dict(type='LoadImageFromFile'),
                     dict(type='ResizePad', scale=64),
                     dict(type='PackAttrInputs')]
            _train = _test[:1] + [dict(type='RandomFlip', prob=0.5)] + \
                _test[1:]
            _ds = dict(data_root=data_root, schema=schema_file,
                       pipeline=_test)
            train_dataloader = dict(
                batch_size={batch}, num_workers=0,
                dataset=dict(_ds, pipeline=_train))
            val_dataloader = dict(batch_size={batch}, num_workers=0,
                                  dataset=_ds)
            test_dataloader = dict(batch_size={batch}, num_workers=0,
                                   dataset=dict(_ds, ann_file='val.jsonl'))
            train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
            default_hooks = dict(
                logger=dict(interval=1),
                checkpoint=dict(interval=1, max_keep_ckpts=5))
            work_dir = {work_dir!r}
            randomness = dict(seed=0, deterministic=True)
            """)
            + extra
        )
    return cfg
