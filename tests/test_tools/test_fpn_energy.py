"""tools/analysis_tools/fpn_energy.py on a tiny catalog."""

import json

from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config
from tools.analysis_tools import fpn_energy

NO_FPN = """
model['neck'] = [dict(type='ScaleWiseCBAM', in_channels=[48, 112, 192]),
                 dict(type='GAPConcatFusion')]
"""


def test_measures_the_requested_number_of_images(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=8)
    cfg = write_tiny_config(root, str(tmp_path / 'work'))
    out = tmp_path / 'energy.json'
    rc = fpn_energy.main(
        [cfg, '--num-images', '6', '--batch-size', '4', '--out', str(out)]
    )
    assert rc == 0
    rows = json.loads(out.read_text())
    # three taps: the two finer levels receive a top-down term
    assert [r['level'] for r in rows] == [0, 1]
    for r in rows:
        assert r['images'] == 6  # a full batch of 4, then 2 of the next
        assert r['lateral'] > 0 and r['top_down'] > 0
        assert 0 < r['top_down_share'] < 1


def test_a_model_without_fpn_is_refused(tmp_path, capsys):
    root = make_tiny_catalog(str(tmp_path), n=4)
    cfg = write_tiny_config(root, str(tmp_path / 'work'), extra=NO_FPN)
    assert fpn_energy.main([cfg]) == 2
    assert 'no FPN' in capsys.readouterr().err
