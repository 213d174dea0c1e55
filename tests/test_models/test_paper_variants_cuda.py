"""CUDA-only checks (skipped without a GPU; run by
``.dev_scripts/gpu_check.sh``)."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from tests.helpers.schemas import VARIANT_SCHEMA
from tests.helpers.tinydata import REPO

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs CUDA'
)

CFG = osp.join(
    REPO, 'configs', 'paper', '{}_effnetv2-m_8xb16_catalog-384px.py'
)


def build(variant):
    cfg = Config.fromfile(CFG.format(variant))
    cfg.model.backbone.init_cfg = None
    cfg.model.head.schema = VARIANT_SCHEMA
    return MODELS.build(cfg.model).cuda()


def samples(n, v, missing_every=3):
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(n):
        s = DataSample()
        s.set_field(
            (torch.rand(v, generator=g) < 0.05).to(torch.uint8), 'gt_attr'
        )
        mask = torch.ones(v, dtype=torch.uint8)
        if i % missing_every == 0:
            mask[:50] = 0  # 'neck' missing
        s.set_field(mask, 'gt_attr_mask')
        out.append(s)
    return out


@pytest.mark.parametrize(
    'variant', ['baseline', 'approach1', 'approach2', 'approach3', 'approach4']
)
def test_bf16_channels_last_training_steps(variant):
    torch.manual_seed(0)
    model = build(variant).to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(8, 3, 384, 384, device='cuda').to(
        memory_format=torch.channels_last
    )
    data = samples(8, 142)
    before = [p.detach().clone() for p in model.head.parameters()]
    losses = []
    for _ in range(4):
        opt.zero_grad()
        with torch.autocast('cuda', dtype=torch.bfloat16):
            loss = model(x, data, mode='loss')
        assert all(v.dtype == torch.float32 for v in loss.values())
        total = sum(loss.values())
        assert torch.isfinite(total)
        total.backward()
        assert all(
            p.grad is not None for p in model.parameters() if p.requires_grad
        )
        opt.step()
        losses.append(total.item())
    assert losses[-1] < losses[0]  # it learns the fixed batch
    after = list(model.head.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_bf16_and_channels_last_match_fp32():
    torch.manual_seed(0)
    model = build('approach3').eval()
    x = torch.randn(4, 3, 384, 384, device='cuda')
    with torch.no_grad():
        ref = model(x, mode='tensor')
        cl = model.to(memory_format=torch.channels_last)(
            x.to(memory_format=torch.channels_last), mode='tensor'
        )
        with torch.autocast('cuda', dtype=torch.bfloat16):
            bf = model(x.to(memory_format=torch.channels_last), mode='tensor')
    rel = lambda a: ((a.float() - ref).norm() / ref.norm()).item()  # noqa
    assert rel(cl) < 1e-3
    assert rel(bf) < 5e-2
