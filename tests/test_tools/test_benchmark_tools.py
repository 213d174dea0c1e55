"""The benchmark tools report what they measured, consistently.

No timing is asserted (speed is what the tools measure); these tests check
the bookkeeping on tiny runs: every requested model and backend gets a
row, throughputs follow from the reported step times, ratios are the
paired per-round ratios, the comparison specs parse, and a backend whose
outputs differ from PyTorch's is refused, not timed. The timing method
itself is tested with scripted clocks in ``test_timing_method.py``.
"""

import pytest
import torch

from mmfashion_attr.apis.inference_backends import BackendMismatchError
from tools.analysis_tools import benchmark, benchmark_latency
from tools.common.benchmarking import paired_ratio


def test_parse_compare():
    assert benchmark.parse_compare('a/b') == ('a', 'b', None)
    assert benchmark.parse_compare('a:compiled/timm:1.05') == (
        'a:compiled',
        'timm',
        1.05,
    )
    assert benchmark.parse_compare('a:compiled/timm:compiled') == (
        'a:compiled',
        'timm:compiled',
        None,
    )
    assert benchmark.parse_compare('x/y:compiled:1') == (
        'x',
        'y:compiled',
        1.0,
    )
    with pytest.raises(ValueError):
        benchmark.parse_compare('approach3')


def test_benchmark_rows_ratios_and_modes(tmp_path):
    torch.set_num_threads(1)
    rows, comps = benchmark.main(
        [
            '--device', 'cpu', '--arch', 'b0', '--img-size', '32',
            '--batch', '2', '--steps', '1', '--max-warmup', '1',
            '--rounds', '2', '--variants', 'approach3', 'baseline', 'plain',
            '--modes', 'train', 'infer',
            '--compare', 'approach3/plain:1.05', 'baseline/plain',
            '--out', str(tmp_path / 'b.json'),
        ]
    )  # fmt: skip
    by = {r['model']: r for r in rows}
    assert set(by) == {'approach3', 'baseline', 'plain'}
    assert by['plain']['train_x_plain'] == 1.0
    for r in rows:
        for k in ('train', 'infer'):
            rounds = r[f'{k}_rounds_s']
            assert len(rounds) == 2
            assert r[f'{k}_img_s'] == pytest.approx(2 / r[f'{k}_step_s'])
            lo, hi = r[f'{k}_img_s_range']
            assert lo == pytest.approx(2 / max(rounds))
            assert hi == pytest.approx(2 / min(rounds))
            ref = paired_ratio(by['plain'][f'{k}_rounds_s'], rounds)
            assert r[f'{k}_x_plain'] == pytest.approx(ref['median'])
            assert r[f'{k}_first_call_s'] > 0
    assert 'latency_b1_ms' not in by['plain']
    # one comparison per spec and mode, with a verdict against its target
    assert [(c['compare'], c['mode']) for c in comps] == [
        ('approach3 / plain', 'train'),
        ('approach3 / plain', 'infer'),
        ('baseline / plain', 'train'),
        ('baseline / plain', 'infer'),
    ]
    c = comps[0]
    assert c['target'] == 1.05 and c['lo'] <= c['median'] <= c['hi']
    assert c['verdict'] in (
        'meets target',
        'misses target',
        'within noise of the target',
    )
    # the b0 variants are built with b0's taps and fused widths
    assert by['approach3']['params_m'] < 20


def test_benchmark_compiled_and_latency_only():
    torch.set_num_threads(1)
    rows, _ = benchmark.main(
        [
            '--device', 'cpu', '--arch', 'b0', '--img-size', '32',
            '--batch', '1', '--steps', '1', '--max-warmup', '1',
            '--rounds', '1', '--variants', 'plain', 'plain:compiled',
            '--modes', 'latency', '--compile-backend', 'eager',
        ]
    )  # fmt: skip
    assert [r['model'] for r in rows] == ['plain', 'plain:compiled']
    for r in rows:
        assert 'latency_b1_ms' in r and 'train_img_s' not in r


def test_latency_benchmark_checks_outputs_then_times(monkeypatch):
    torch.set_num_threads(1)
    args = [
        '--device', 'cpu', '--arch', 'b0', '--img-size', '64',
        '--threads', '1', '--rounds', '2', '--steps', '1',
        '--max-warmup', '1', '--calib-images', '2',
    ]  # fmt: skip
    rows, comps = benchmark_latency.main(
        args
        + ['--backends', 'eager', 'onnxruntime', 'onnxruntime-int8']
        + ['--compare', 'onnxruntime-int8/eager:2', 'onnxruntime/eager']
    )
    by = {r['backend']: r for r in rows}
    assert list(by) == ['eager', 'onnxruntime', 'onnxruntime-int8']
    assert by['eager']['speedup_vs_eager'] == 1.0
    for r in rows:
        ref = paired_ratio(by['eager']['rounds_s'], r['rounds_s'])
        assert r['speedup_vs_eager'] == pytest.approx(ref['median'])
        assert r['min_ms'] <= r['median_ms'] <= r['max_ms']
    assert by['onnxruntime']['max_abs_diff'] <= 1e-3
    assert by['onnxruntime-int8']['max_abs_diff'] < 1.0
    assert [c['compare'] for c in comps] == [
        'onnxruntime-int8 / eager',
        'onnxruntime / eager',
    ]
    # a graph that disagrees with PyTorch is refused, not timed
    real_export = benchmark_latency.build_inference_backend

    def wrong_weights(name, model, *a, **kw):
        with torch.no_grad():
            model.head.branches[0].fc_out.bias.add_(1.0)
        try:
            backend = real_export(name, model, *a, **kw)
        finally:
            with torch.no_grad():
                model.head.branches[0].fc_out.bias.sub_(1.0)
        backend.checked.clear()  # checked again at the next call
        return backend

    monkeypatch.setattr(
        benchmark_latency, 'build_inference_backend', wrong_weights
    )
    with pytest.raises(BackendMismatchError, match='differ from eager'):
        benchmark_latency.main(args + ['--backends', 'eager', 'onnxruntime'])
