"""Statistics of the variant study against hand computations and scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from mmfashion_attr.evaluation.variant_study import (
    attribute_groups,
    format_table,
    mean_ci,
    run_scores,
    summarize,
    t_quantile_975,
)


@pytest.mark.parametrize('df', [1, 2, 4, 9, 29, 30, 31, 45, 80, 150, 1000])
def test_t_quantile_matches_scipy(df):
    assert t_quantile_975(df) == pytest.approx(
        stats.t.ppf(0.975, df), abs=2e-3
    )


def test_t_quantile_rejects_zero_df():
    with pytest.raises(ValueError, match='degrees of freedom'):
        t_quantile_975(0)


def test_mean_ci_by_hand():
    # mean 0.6, sample std 0.1, t(0.975, 2) = 4.303
    s = mean_ci([0.5, 0.6, 0.7])
    assert s['n'] == 3
    assert s['mean'] == pytest.approx(0.6)
    assert s['std'] == pytest.approx(0.1)
    assert s['ci95'] == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert s['low'] == pytest.approx(0.6 - 4.303 * 0.1 / math.sqrt(3))


def test_mean_ci_single_and_nan():
    s = mean_ci([0.4])
    assert s['mean'] == 0.4 and s['std'] is None and s['ci95'] is None
    with pytest.raises(ValueError, match='NaN'):
        mean_ci([0.4, float('nan')])


def test_groups_and_run_scores(small_schema):
    groups = attribute_groups(small_schema)
    assert groups['all'] == ['category', 'sleeve', 'closure', 'colour',
                             'pattern']  # fmt: skip
    assert groups['roi/small'] == ['sleeve', 'closure']
    assert groups['roi/large+granularity/fine'] == ['pattern']
    metrics = {
        'attr/category/micro_f1': 0.9,
        'attr/sleeve/micro_f1': 0.5,
        'attr/closure/micro_f1': 0.3,
        'attr/colour/micro_f1': 0.7,
        'attr/pattern/micro_f1': 0.2,
        'attr/mean_micro_f1': 0.52,
    }
    scores = run_scores(metrics, small_schema)
    assert scores['roi/small'] == pytest.approx(0.4)
    assert scores['roi/large'] == pytest.approx((0.9 + 0.7 + 0.2) / 3)
    assert scores['all'] == pytest.approx(0.52)
    # an attribute without test labels is left out of its groups
    del metrics['attr/closure/micro_f1']
    assert run_scores(metrics, small_schema)['roi/small'] == 0.5


def _scores(small, large):
    return {'roi/small': small, 'roi/large': large}


def test_summarize_paired_difference_by_hand(small_schema):
    runs = {
        'base': {0: _scores(0.5, 0.8), 1: _scores(0.7, 0.8), 2: _scores(0.6,
                                                                        0.9)},
        'new': {0: _scores(0.6, 0.8), 1: _scores(0.9, 0.7)},
    }  # fmt: skip
    constant = {'roi/small': 0.45, 'roi/large': 0.6}
    s = summarize(runs, small_schema, constant=constant)
    assert s['reference'] == 'base'
    base = s['configs']['base']
    assert base['stats']['roi/small']['mean'] == pytest.approx(0.6)
    assert 'diff_to_reference' not in base
    d = s['configs']['new']['diff_to_reference']['roi/small']
    # paired over the common seeds 0 and 1: differences 0.1 and 0.2
    assert d['seeds'] == 2
    assert d['mean'] == pytest.approx(0.15)
    sd = np.std([0.1, 0.2], ddof=1)
    assert d['std'] == pytest.approx(sd)
    assert d['ci95'] == pytest.approx(12.706 * sd / math.sqrt(2))
    # worst seed over the constant predictor: 0.6 - 0.45
    assert s['configs']['new']['min_margin_over_constant'][
        'roi/small'
    ] == pytest.approx(0.15)
    assert s['configs']['base']['min_margin_over_constant'][
        'roi/large'
    ] == pytest.approx(0.2)
    table = format_table(s, ['roi/small'])
    assert '| base | 3 | 0.600 ± ' in table
    assert '| new | 2 | +0.150 [' in table


def test_summarize_needs_the_reference(small_schema):
    with pytest.raises(KeyError, match='reference'):
        summarize({'a': {0: _scores(1, 1)}}, small_schema, reference='b')
