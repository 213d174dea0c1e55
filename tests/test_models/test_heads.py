import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmfashion_attr.models import MultiAttributeHead


def make_head(schema, **kw):
    torch.manual_seed(0)
    head = MultiAttributeHead(
        schema=schema,
        in_channels=12,
        hidden_channels=kw.pop('hidden', 7),
        **kw,
    )
    head.init_weights()
    return head


def sample(schema, cat=None, labels=None, unknown=()):
    """A DataSample with `labels` {attr: [values]} (others missing)."""
    gt = np.zeros(schema.num_values, np.uint8)
    mask = np.zeros(schema.num_values, np.uint8)
    for a, vals in (labels or {}).items():
        mask[schema.slice(a)] = 1
        for v in vals:
            gt[schema.flat_index(a, v)] = 1
    for a, v in unknown:
        mask[schema.flat_index(a, v)] = 0
    s = DataSample(metainfo=dict(category_idx=schema.category_index(cat)))
    s.set_field(torch.from_numpy(gt), 'gt_attr')
    s.set_field(torch.from_numpy(mask), 'gt_attr_mask')
    return s


def hand_bce(x, y):
    p = 1 / (1 + math.exp(-x))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_fused_forward_equals_separate_branches(small_schema):
    head = make_head(small_schema, hidden=dict(default=5, pattern=9))
    x = torch.randn(4, 12)
    out = head(x)
    ref = torch.cat(
        [b.fc_out(F.relu(b.fc_hidden(x))) for b in head.branches], dim=1
    )
    torch.testing.assert_close(out, ref)
    assert head.branches[4].fc_hidden.out_features == 9
    assert head.branches[0].fc_hidden.out_features == 5
    assert out.shape == (4, small_schema.num_values)


def test_inference_cache_follows_every_weight_change(small_schema):
    """Cached fused weights never serve stale values."""
    head = make_head(small_schema).eval()
    x = torch.randn(3, 12)

    def reference(inp=x):
        return torch.cat(
            [b.fc_out(F.relu(b.fc_hidden(inp))) for b in head.branches], dim=1
        )

    with torch.no_grad():
        first = head(x)
        torch.testing.assert_close(first, reference())
        assert head._fused_cache is not None
        cached = head._fused_cache[1]
        head(x)
        assert head._fused_cache[1] is cached  # reused, not rebuilt
    # an optimizer step (in-place update) invalidates it
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    head.train()
    head(x).sum().backward()
    opt.step()
    head.eval()
    with torch.no_grad():
        stepped = head(x)
        torch.testing.assert_close(stepped, reference())
        assert not torch.allclose(stepped, first)
        # load_state_dict (copy_ in place) invalidates it
        other = make_head(small_schema)
        for p in other.parameters():
            p.add_(1.0)
        head.load_state_dict(other.state_dict())
        torch.testing.assert_close(head(x), reference())
        # a dtype change invalidates it
        head.double()
        out = head(x.double())
        assert out.dtype == torch.float64
        torch.testing.assert_close(out, reference(x.double()))
    # with autograd on, gradients reach the branch parameters
    head.float().train()
    head(x).sum().backward()
    assert all(p.grad is not None for p in head.branches.parameters())


def test_masked_loss_equals_hand_computed_bce(small_schema):
    """Loss of an attribute = mean BCE over its labelled entries only."""
    s = small_schema
    head = make_head(s, use_category_mask=False)
    x = torch.randn(3, 12)
    samples = [
        sample(
            s,
            'tee',
            {'sleeve': ['short'], 'colour': ['red', 'blue']},
            unknown=[('colour', 'white')],
        ),
        sample(s, 'dress', {'sleeve': ['long'], 'closure': []}),
        sample(s, None, {}),  # nothing labelled
    ]
    losses = head.loss(x, samples)
    logits = head(x).detach().numpy()

    # hand-computed references, entry by entry
    def mean_bce(rows_and_targets, attr):
        sl = s.slice(attr)
        vals = []
        for row, targets in rows_and_targets:
            for j, t in enumerate(targets):
                if t is not None:
                    vals.append(hand_bce(logits[row, sl.start + j], t))
        return sum(vals) / len(vals)

    # sample 0 category 'tee' -> category attribute filled? No: labels are
    # given explicitly here, category attr is missing in all samples.
    exp_sleeve = mean_bce([(0, [1, 0, 0]), (1, [0, 1, 0])], 'sleeve')
    exp_colour = mean_bce([(0, [1, 1, None])], 'colour')
    exp_closure = mean_bce([(1, [0, 0, 0, 0])], 'closure')
    assert losses['loss_sleeve'].item() == pytest.approx(exp_sleeve, rel=1e-5)
    assert losses['loss_colour'].item() == pytest.approx(exp_colour, rel=1e-5)
    assert losses['loss_closure'].item() == pytest.approx(
        exp_closure, rel=1e-5
    )
    assert losses['loss_category'].item() == 0
    assert losses['loss_pattern'].item() == 0


def test_missing_attribute_gets_zero_gradient_but_takes_part(small_schema):
    s = small_schema
    head = make_head(s)
    x = torch.randn(4, 12, requires_grad=True)
    samples = [
        sample(s, 'tee', {'sleeve': ['short'], 'colour': ['red']})
        for _ in range(4)
    ]  # pattern/closure missing in the batch
    sum(head.loss(x, samples).values()).backward()
    for i, name in enumerate(s.names):
        b = head.branches[i]
        for p in b.parameters():
            assert p.grad is not None  # every parameter is in the graph
        if name in ('sleeve', 'colour'):
            assert b.fc_out.weight.grad.abs().sum() > 0
        else:
            assert torch.count_nonzero(b.fc_out.weight.grad) == 0
            assert torch.count_nonzero(b.fc_hidden.weight.grad) == 0


def test_unknown_value_gets_zero_gradient(small_schema):
    s = small_schema
    head = make_head(s, use_category_mask=False)
    x = torch.randn(2, 12)
    samples = [
        sample(s, None, {'colour': ['red']}, unknown=[('colour', 'white')])
        for _ in range(2)
    ]
    sum(head.loss(x, samples).values()).backward()
    g = head.branches[3].fc_out.weight.grad
    assert g[2].abs().sum() == 0 and g[0].abs().sum() > 0
    assert head.branches[3].fc_out.bias.grad[2] == 0


def test_category_mask_in_loss_and_prediction(small_schema):
    s = small_schema
    head = make_head(s)
    x = torch.randn(2, 12)
    # jeans: sleeve not applicable; labelled anyway -> ignored
    samples = [
        sample(s, 'jeans', {'sleeve': ['long'], 'closure': ['zip']}),
        sample(s, 'dress', {'closure': ['elastic']}),
    ]
    losses = head.loss(x, samples)
    assert losses['loss_sleeve'].item() == 0
    logits = head(x).detach()
    c = s.slice('closure')
    # jeans: button/zip allowed only; dress: all four
    entries = [
        hand_bce(logits[0, c.start + j].item(), t)
        for j, t in enumerate([0, 1])
    ]
    entries += [
        hand_bce(logits[1, c.start + j].item(), t)
        for j, t in enumerate([0, 0, 0, 1])
    ]
    assert losses['loss_closure'].item() == pytest.approx(
        np.mean(entries), rel=1e-5
    )
    preds = head.predict(
        x, [DataSample(metainfo=dict(category_idx=1)), DataSample()]
    )
    assert preds[0].pred_score[s.slice('sleeve')].sum() == 0
    assert preds[0].pred_score[c][2:].sum() == 0
    assert (preds[1].pred_score > 0).all()  # unknown category: no mask


def test_predict_on_partly_labelled_and_unlabelled_batch(small_schema):
    s = small_schema
    head = make_head(s)
    x = torch.randn(3, 12)
    samples = [sample(s, 'tee', {'sleeve': ['short']}), DataSample(), None]
    out = head.predict(x, samples)
    assert len(out) == 3
    for o in out:
        assert o.pred_score.shape == (s.num_values,)
        assert ((o.pred_score >= 0) & (o.pred_score <= 1)).all()
    assert out[0] is samples[0]
    assert len(head.predict(x)) == 3


def test_all_missing_batch_is_finite_zero(small_schema):
    head = make_head(small_schema)
    x = torch.randn(2, 12, requires_grad=True)
    losses = head.loss(x, [DataSample(), sample(small_schema, None, {})])
    total = sum(losses.values())
    assert total.item() == 0
    total.backward()
    assert torch.isfinite(x.grad).all()


def test_loss_in_fp32_under_autocast(small_schema):
    head = make_head(small_schema)
    x = torch.randn(4, 12)
    samples = [sample(small_schema, 'tee', {'sleeve': ['short']})] * 4
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logits = head(x)
        assert logits.dtype == torch.bfloat16
        losses = head.loss(x, samples)
    assert all(v.dtype == torch.float32 for v in losses.values())
    # the reference: torch's BCE in float32 on the bfloat16 logits of the
    # labelled sleeve entries ('tee' allows short and long, not 'none')
    sl = small_schema.slice('sleeve')
    ref = F.binary_cross_entropy_with_logits(
        logits[:, sl][:, :2].float(), torch.tensor([[1.0, 0.0]] * 4)
    )
    torch.testing.assert_close(losses['loss_sleeve'], ref)


def test_prior_prob_initialises_output_biases(small_schema):
    head = make_head(small_schema, prior_prob=0.1)
    scores = torch.sigmoid(head(torch.zeros(1, 12)))
    # zero input: hidden = relu(bias_hidden)=0 after Xavier (bias 0), so the
    # scores are sigmoid(output bias) = prior
    torch.testing.assert_close(scores, torch.full_like(scores, 0.1))
    with pytest.raises(ValueError, match='prior_prob'):
        MultiAttributeHead(schema=small_schema, in_channels=4, prior_prob=1.0)


def test_bad_arguments():
    with pytest.raises(KeyError, match='unknown attributes'):
        MultiAttributeHead(
            schema={'attributes': [{'name': 'a', 'values': ['x']}]},
            in_channels=4,
            hidden_channels={'b': 3},
        )


def test_pre_logits_is_the_hidden_layer(small_schema):
    head = make_head(small_schema, hidden=dict(default=5, pattern=9))
    x = torch.randn(3, 12)
    by_hand = torch.cat(
        [
            torch.clamp(x @ b.fc_hidden.weight.T + b.fc_hidden.bias, min=0)
            for b in head.branches
        ],
        dim=1,
    )
    assert by_hand.shape == (3, 4 * 5 + 9)
    torch.testing.assert_close(head.pre_logits(x), by_hand)
    torch.testing.assert_close(head.pre_logits((torch.zeros(1), x)), by_hand)
    with torch.no_grad():  # the cached inference weights give the same
        torch.testing.assert_close(head.pre_logits(x), by_hand)


def test_extract_feat_pre_logits_of_the_classifier(tmp_path):
    """mmpretrain's ``ImageClassifier.extract_feat(stage='pre_logits')``
    returns the branches' hidden layer, computed here by hand from the
    neck's fused feature."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config

    root = make_tiny_catalog(str(tmp_path), n=2)
    cfg = Config.fromfile(write_tiny_config(root, str(tmp_path / 'w')))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        fused = model.extract_feat(x, stage='neck')[-1]
        got = model.extract_feat(x, stage='pre_logits')
    w = torch.cat([b.fc_hidden.weight for b in model.head.branches])
    bias = torch.cat([b.fc_hidden.bias for b in model.head.branches])
    by_hand = torch.clamp(fused @ w.T + bias, min=0)
    assert got.shape == (2, sum(model.head.hidden_sizes))
    torch.testing.assert_close(got, by_hand)
