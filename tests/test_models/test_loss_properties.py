"""Property-based tests (hypothesis) of the masked loss against an
independent reference written here: random masks, all-missing batches,
single-sample batches, attributes with no labelled entry.

Guards against an attribute labelled in no sample of a batch (0 / 0) and a
NaN logit behind a mask leaking into the loss or its gradient.
"""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from mmfashion_attr.models.losses.masked_multilabel_loss import (
    MaskedMultiLabelLoss,
)
from tests.helpers.properties import SETTINGS


# ------------------------------------------------------------------ loss
@st.composite
def loss_batches(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    n = draw(st.integers(1, 5))  # single-sample batches included
    v = sum(sizes)
    floats = st.floats(-30, 30, allow_nan=False, width=32)
    logits = np.array(
        draw(st.lists(floats, min_size=n * v, max_size=n * v)), np.float32
    ).reshape(n, v)
    target = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    kind = draw(
        st.sampled_from(
            ['random', 'all_missing', 'all_labelled', 'one_attribute_empty']
        )
    )
    mask = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    ids = np.repeat(np.arange(len(sizes)), sizes)
    if kind == 'all_missing':
        mask[:] = False
    elif kind == 'all_labelled':
        mask[:] = True
    elif kind == 'one_attribute_empty':
        mask[:, ids == draw(st.integers(0, len(sizes) - 1))] = False
    reduction = draw(st.sampled_from(['mean', 'sample']))
    return logits, target, mask, ids, reduction


def reference_loss(logits, target, mask, ids, reduction):
    x = logits.astype(np.float64)
    elem = np.where(target, np.logaddexp(0, -x), np.logaddexp(0, x))
    out = []
    for a in range(ids.max() + 1):
        m = mask[:, ids == a]
        total = (elem[:, ids == a] * m).sum()
        denom = m.sum() if reduction == 'mean' else m.any(axis=1).sum()
        out.append(total / denom if denom else 0.0)
    return np.array(out)


@SETTINGS
@given(loss_batches())
def test_masked_loss_matches_reference_and_masks_gradients(batch):
    logits, target, mask, ids, reduction = batch
    crit = MaskedMultiLabelLoss(reduction=reduction)
    # NaN / inf behind the mask must change nothing
    poisoned = np.where(mask, logits, np.float32('nan'))
    poisoned[
        ~mask & (np.arange(logits.size).reshape(logits.shape) % 2 == 0)
    ] = np.inf
    x = torch.tensor(poisoned, requires_grad=True)
    loss = crit(
        x,
        torch.tensor(target),
        torch.tensor(mask),
        torch.tensor(ids),
        int(ids.max()) + 1,
    )
    ref = reference_loss(logits, target, mask, ids, reduction)
    assert torch.isfinite(loss).all()
    assert np.allclose(
        loss.detach().double().numpy(), ref, rtol=1e-4, atol=1e-5
    )
    unlabelled = [a for a in range(len(ref)) if not mask[:, ids == a].any()]
    assert all(loss[a].item() == 0.0 for a in unlabelled)
    loss.sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    assert (grad[~mask] == 0).all()
