"""The timing method of the benchmark tools, with scripted clocks.

No real time is measured: each timer returns the next value of a script,
so warm-up stopping, round order, medians, paired ratios and the
within-noise verdicts are checked against values computed by hand.
"""

import itertools
import statistics

import pytest

from tools.common.benchmarking import (
    Case,
    interleaved_rounds,
    is_stable,
    paired_ratio,
    summary,
    verdict,
    warm_up,
)


def scripted(values):
    """A timer that calls ``fn`` and returns the next scripted time."""
    it = iter(values)

    def timer(fn):
        fn()
        return next(it)

    return timer


def test_is_stable_uses_the_last_window_against_its_median():
    assert not is_stable([1.0, 1.0], window=3, tolerance=0.05)
    # (1.04 - 1.00) / 1.02 = 0.039
    assert is_stable([9.0, 1.0, 1.02, 1.04], window=3, tolerance=0.05)
    # (1.06 - 1.00) / 1.03 = 0.058
    assert not is_stable([1.0, 1.03, 1.06], window=3, tolerance=0.05)


def test_warm_up_stops_when_stable():
    calls = []
    times = [5.0, 2.0, 1.2, 1.0, 1.01, 0.99, 7.0]
    w = warm_up(
        lambda: calls.append(1), scripted(times), window=3, tolerance=0.05
    )
    # 1.0, 1.01, 0.99: range 0.02 of median 1.0
    assert w.stable and w.steps == 6 and len(calls) == 6
    assert w.times == times[:6]


def test_warm_up_gives_up_at_the_cap():
    noisy = itertools.cycle([1.0, 2.0])
    w = warm_up(lambda: None, scripted(noisy), window=3, max_steps=7)
    assert not w.stable and w.steps == 7


def test_warm_up_honours_min_steps():
    w = warm_up(lambda: None, scripted([1.0] * 10), window=2, min_steps=4)
    assert w.stable and w.steps == 4


def test_summary_quartiles_and_range():
    s = summary([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (s['median'], s['min'], s['max'], s['n']) == (3.0, 1.0, 5.0, 5)
    assert (s['q1'], s['q3']) == (2.0, 4.0)
    assert summary([2.5])['median'] == summary([2.5])['q3'] == 2.5


def test_paired_ratio_is_round_by_round():
    # B drifts 2x slower in round 2; per-round ratios stay near 1.1
    a = [1.0, 2.0, 1.0]
    b = [1.1, 2.2, 1.12]
    r = paired_ratio(b, a)
    assert r['rounds'] == pytest.approx([1.1, 1.1, 1.12])
    assert r['median'] == pytest.approx(1.1)
    assert (r['lo'], r['hi']) == pytest.approx((1.1, 1.12))
    # the ratio of overall medians would mix the rounds
    assert statistics.median(b) / statistics.median(a) == pytest.approx(1.12)
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


@pytest.mark.parametrize(
    'lo,hi,target,expected',
    [
        (1.02, 1.06, None, 'higher'),
        (0.90, 0.97, None, 'lower'),
        (0.98, 1.03, None, 'within noise of 1.0'),
        (1.05, 1.09, 1.05, 'meets target'),
        (0.95, 1.04, 1.05, 'misses target'),
        (1.03, 1.07, 1.05, 'within noise of the target'),
    ],
)
def test_verdict(lo, hi, target, expected):
    assert verdict(dict(lo=lo, hi=hi, median=(lo + hi) / 2), target) == (
        expected
    )


def test_interleaved_rounds_rotate_warm_up_and_take_medians():
    order = []

    def case(name):
        return Case(
            name,
            setup=lambda: lambda: order.append(name),
            teardown=lambda: order.append(f'{name} done'),
        )

    # every call takes 1.0 s except scripted ones: the timer sees the
    # calls in order, so a script per call position is built below
    script = []
    # round 1: A warms up with 3.0, 1.0, 1.0 (window 2), then steps
    # 1.0, 1.2, 1.1; B warms up 1.0, 1.0 then steps 2.0, 2.0, 2.4
    script += [3.0, 1.0, 1.0, 1.0, 1.2, 1.1]
    script += [1.0, 1.0, 2.0, 2.0, 2.4]
    # round 2 (B first): B 2.0, 2.0 | 2.2, 2.2, 2.2; A 1.0, 1.0 | 1.0
    script += [2.0, 2.0, 2.2, 2.2, 2.2]
    script += [1.0, 1.0, 1.0, 1.0, 1.0]
    res = interleaved_rounds(
        [case('A'), case('B')],
        scripted(script),
        rounds=2,
        steps=3,
        window=2,
        tolerance=0.01,
    )
    assert res['A']['rounds'] == [1.1, 1.0]
    assert res['B']['rounds'] == [2.0, 2.2]
    assert res['A']['warmup'] == [3, 2] and res['B']['warmup'] == [2, 2]
    assert res['A']['first_call_s'] == 3.0
    assert res['B']['first_call_s'] == 1.0
    assert all(res['A']['stable'] + res['B']['stable'])
    # rotation: A then B, then B then A; teardown after each slot
    slots = [o for o in order if o.endswith('done')]
    assert slots == ['A done', 'B done', 'B done', 'A done']
    ratio = paired_ratio(res['B']['rounds'], res['A']['rounds'])
    assert ratio['rounds'] == pytest.approx([2.0 / 1.1, 2.2])


def test_mean_aggregate_and_min_warmup_per_case():
    # the case warms up for at least 3 calls although stable after 2,
    # and its slot number is the mean (a stall counts)
    res = interleaved_rounds(
        [Case('L', step=lambda: None, min_warmup=3)],
        scripted([1.0, 1.0, 1.0, 1.0, 1.0, 4.0]),
        rounds=1,
        steps=3,
        window=2,
        tolerance=0.01,
        max_warmup=2,
        aggregate='mean',
    )
    assert res['L']['warmup'] == [3]
    assert res['L']['rounds'] == [2.0]  # median would be 1.0
    with pytest.raises(ValueError):
        interleaved_rounds([], scripted([]), aggregate='max')
