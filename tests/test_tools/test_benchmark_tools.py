"""The benchmark tools report what they measured, consistently.

No timing is asserted (speed is what the tools measure); these tests check
the bookkeeping: every requested model gets a row, ratios are the quotients
of the reported step times, rounds are merged by their median, and the ONNX
comparison refuses a graph whose outputs differ from PyTorch's.
"""

import statistics

import pytest
import torch

from tools.analysis_tools import benchmark, benchmark_onnx


def test_merge_rounds_takes_medians_and_keeps_rounds():
    runs = [
        dict(model='m', params_m=3.0, train_step_s=s, train_img_s=2 / s)
        for s in (0.5, 0.2, 0.4)
    ]
    row = benchmark.merge_rounds(runs, batch=2)
    assert row['train_step_s'] == statistics.median([0.5, 0.2, 0.4]) == 0.4
    assert row['train_img_s'] == pytest.approx(2 / 0.4)
    assert row['params_m'] == 3.0 and row['rounds'] == runs


def test_benchmark_rows_ratios_and_modes(tmp_path):
    torch.set_num_threads(1)
    rows = benchmark.main(
        [
            '--device', 'cpu', '--arch', 'b0', '--img-size', '32',
            '--batch', '2', '--warmup', '0', '--steps', '1',
            '--rounds', '2', '--variants', 'approach3', 'baseline', 'plain',
            '--out', str(tmp_path / 'b.json'),
        ]
    )  # fmt: skip
    by = {r['model']: r for r in rows}
    assert set(by) == {'approach3', 'baseline', 'plain'}
    assert by['plain']['train_vs_plain'] == 1.0
    for r in rows:
        assert len(r['rounds']) == 2
        for k in ('train', 'infer'):
            assert r[f'{k}_vs_plain'] == pytest.approx(
                r[f'{k}_step_s'] / by['plain'][f'{k}_step_s']
            )
            assert r[f'{k}_img_s'] == pytest.approx(2 / r[f'{k}_step_s'])
    # the b0 variants are built with b0's taps and fused widths
    assert by['approach3']['params_m'] < 20
    only = benchmark.main(
        [
            '--device', 'cpu', '--arch', 'b0', '--img-size', '32',
            '--batch', '1', '--warmup', '0', '--steps', '1',
            '--variants', 'plain', '--modes', 'latency',
        ]
    )  # fmt: skip
    assert 'latency_b1_ms' in only[0] and 'train_step_s' not in only[0]


def test_onnx_benchmark_checks_outputs_then_times(monkeypatch):
    torch.set_num_threads(1)
    args = [
        '--arch', 'b0', '--img-size', '64', '--threads', '1',
        '--warmup', '0', '--runs', '2',
    ]  # fmt: skip
    rows = benchmark_onnx.main(args)
    assert [r['backend'] for r in rows] == ['pytorch eager', 'onnxruntime']
    assert rows[0]['speedup_vs_eager'] == 1.0
    assert rows[1]['speedup_vs_eager'] == pytest.approx(
        rows[0]['median_ms'] / rows[1]['median_ms']
    )
    # a graph that disagrees with PyTorch is refused, not timed
    real_export = benchmark_onnx.export_onnx

    def wrong_export(model, path, size):
        with torch.no_grad():
            model.head.branches[0].fc_out.bias.add_(1.0)
        real_export(model, path, size)
        with torch.no_grad():
            model.head.branches[0].fc_out.bias.sub_(1.0)

    monkeypatch.setattr(benchmark_onnx, 'export_onnx', wrong_export)
    with pytest.raises(SystemExit, match='differs from PyTorch'):
        benchmark_onnx.main(args)
