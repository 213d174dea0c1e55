"""The exact-resume cost benchmark's bookkeeping, on a tiny model.

No timing is asserted: each case's runs train with the loop and workers
the case names, for the iterations the data gives, and the reported
medians and ratio follow from the per-round times.
"""

import statistics

import pytest
import torch

from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config
from tools.analysis_tools import benchmark_exact_resume as bench


def test_case_configs_differ_only_in_loop_and_workers(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=4)
    cfg = bench.Config.fromfile(write_tiny_config(root, str(tmp_path / 'w')))
    args = bench.argparse.Namespace(
        img_size=None, batch=2, workers=2, epochs=3
    )
    mm = bench.case_config(cfg, 'mmengine', root, 'schema.json', args, 'a')
    ex = bench.case_config(cfg, 'exact', root, 'schema.json', args, 'b')
    assert mm.train_cfg['type'] == 'EpochBasedTrainLoop'
    assert ex.train_cfg['type'] == 'ResumableEpochBasedTrainLoop'
    assert mm.train_dataloader['persistent_workers'] is True
    assert ex.train_dataloader['persistent_workers'] is False
    for c in (mm, ex):
        assert c.train_cfg['max_epochs'] == 3
        assert (
            c.val_dataloader is None and c.default_hooks['checkpoint'] is None
        )
        assert c.train_dataloader['num_workers'] == 2
        assert c.train_dataloader['batch_size'] == 2
    args.same_workers = True
    same = bench.case_config(cfg, 'mmengine', root, 'schema.json', args, 'c')
    assert same.train_dataloader['persistent_workers'] is False
    assert same.train_cfg['type'] == 'EpochBasedTrainLoop'
    # everything else is the config's own
    assert mm.custom_hooks == ex.custom_hooks == cfg.custom_hooks
    assert mm.optim_wrapper == ex.optim_wrapper == cfg.optim_wrapper


def test_exact_resume_benchmark_bookkeeping(tmp_path):
    torch.set_num_threads(1)
    root = make_tiny_catalog(str(tmp_path), n=4)
    cfg = write_tiny_config(root, str(tmp_path / 'w'))
    report = bench.main(
        [
            cfg, '--batch', '4', '--workers', '1', '--epochs', '2',
            '--num-images', '10', '--distinct', '2',
            '--jpeg-size', '48', '64', '--rounds', '2',
            '--out', str(tmp_path / 'r.json'),
        ]
    )  # fmt: skip
    rows = {r['case']: r for r in report['rows']}
    # the runner really ran each loop: 10 images, batch 4 -> 3 per epoch
    assert rows['mmengine']['loop'] == 'EpochBasedTrainLoop'
    assert rows['exact']['loop'] == 'ResumableEpochBasedTrainLoop'
    assert 'iterations=6' in report['setup']
    for r in rows.values():
        assert len(r['rounds']) == 2
        assert r['s_per_iter'] == pytest.approx(statistics.median(r['rounds']))
        assert r['range'] == [min(r['rounds']), max(r['rounds'])]
    (comp,) = report['compare']
    by_hand = [
        e / m
        for e, m in zip(rows['exact']['rounds'], rows['mmengine']['rounds'])
    ]
    assert comp['median'] == pytest.approx(statistics.median(by_hand))
    assert (comp['lo'], comp['hi']) == pytest.approx(
        (min(by_hand), max(by_hand))
    )
    if comp['lo'] > 1:
        assert comp['verdict'] == 'exact is slower'
    elif comp['hi'] < 1:
        assert comp['verdict'] == 'exact is faster'
    else:
        assert comp['verdict'] == 'within noise of 1.0'
    # the difference per epoch: (exact - mmengine) x 3 iterations per epoch
    extra = report['extra_per_epoch']
    by_hand = [
        (e - m) * 3
        for e, m in zip(rows['exact']['rounds'], rows['mmengine']['rounds'])
    ]
    assert extra['iterations_per_epoch'] == 3
    assert extra['rounds'] == pytest.approx(by_hand)
    assert extra['median'] == pytest.approx(statistics.median(by_hand))
    assert (tmp_path / 'r.json').is_file()
