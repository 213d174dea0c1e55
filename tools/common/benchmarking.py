"""What the benchmark tools share: the paper variants' configs at any
EfficientNetV2 arch with the paper's attribute value counts, and the timing
loop (``benchmark.py``, ``benchmark_onnx.py``)."""

from __future__ import annotations

import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER = osp.join(
    REPO, 'configs', 'paper', '{}_effnetv2-m_8xb16_catalog-384px.py'
)
VARIANTS = ['baseline', 'approach1', 'approach2', 'approach3', 'approach4']

# The paper's in-house attributes (Table 1, section 2): value counts.
PAPER_SCHEMA = {
    'attributes': [
        {'name': n, 'values': [f'{n}_{i}' for i in range(k)]}
        for n, k in [
            ('category', 8),
            ('bottomwear_length', 6),
            ('topwear_length', 5),
            ('closure', 4),
            ('sleeve_length', 6),
            ('distressed', 5),
            ('rise', 4),
            ('pattern', 89),
            ('sleeve_style', 20),
            ('neck_type', 50),
        ]
    ]
}


# EfficientNetV2 taps: (multi-scale out_indices, head conv index, channels)
ARCH_TAPS = {
    'm': ((3, 5, 7), 8, [80, 176, 512]),
    'b0': ((3, 5, 6), 7, [48, 112, 192]),
}


def adapt_to_arch(cfg, arch):
    """Rewrite an EfficientNetV2-M paper config for another arch."""
    taps, head_idx, chans = ARCH_TAPS[arch]
    m_taps, m_head, m_chans = ARCH_TAPS['m']
    bb = cfg.model.backbone
    bb.arch = arch
    bb.out_indices = (
        (head_idx,) if tuple(bb.out_indices) == (m_head,) else taps
    )
    for neck in cfg.model.neck:
        if list(neck.get('in_channels', [])) == m_chans:
            neck.in_channels = chans
    fused = {
        1280: 1280 if bb.out_indices == (head_idx,) else None,
        768: sum(chans),
    }
    if fused.get(cfg.model.head.in_channels):
        cfg.model.head.in_channels = fused[cfg.model.head.in_channels]
    return cfg


def paper_config(variant: str, arch: str) -> Config:
    """A paper variant's config: no pretrained weights, ``arch``'s taps,
    the paper's attribute value counts."""
    cfg = Config.fromfile(PAPER.format(variant))
    cfg.model.backbone.init_cfg = None
    adapt_to_arch(cfg, arch)
    cfg.model.head.schema = PAPER_SCHEMA
    return cfg


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def time_calls(fn, device, warmup, steps):
    """Seconds of each of ``steps`` calls of ``fn`` after ``warmup``."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return times


def timed(fn, device, warmup, steps):
    """Median seconds per call (see ``time_calls``)."""
    return statistics.median(time_calls(fn, device, warmup, steps))
