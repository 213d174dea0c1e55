"""What the benchmark tools share: the paper variants' configs at any
EfficientNetV2 arch with the paper's attribute value counts, and the timing
method (``benchmark.py``, ``benchmark_latency.py``,
``benchmark_train_e2e.py``).

The timing method, made to resolve differences of a few percent on a
shared machine:

* a **timer** per device: CUDA events around the call on a GPU (the time
  the GPU's stream spent on it, its idle gaps included), ``perf_counter``
  on the CPU;
* **warm-up until stable**: calls until the last ``window`` call times
  vary by less than ``tolerance`` of their median (at most ``max_steps``),
  so that compilation, cuDNN's algorithm search and the allocator's
  growth stay out of the numbers;
* **interleaved rounds**: every case (model, mode) is measured once per
  round, in a rotating order, so that a drift of the machine (clocks,
  other tenants) hits all cases alike; each round gives the median of its
  steps, and a case's number is the median over rounds with the range;
* **paired ratios**: the ratio of two cases is taken round by round (the
  two measured minutes apart, not hours), and reported as its median with
  the range over rounds; when that range includes 1.0 (or the target) the
  difference is within the noise of the run, and the tools say so.

Every function takes its timer as an argument, so the bookkeeping is
tested with scripted clocks.
"""

from __future__ import annotations

import dataclasses
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

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


# ------------------------------------------------------------------ timing
Timer = Callable[[Callable[[], object]], float]


def perf_counter_timer(fn: Callable[[], object]) -> float:
    """Seconds of one call of ``fn`` on the host clock."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cuda_event_timer(fn: Callable[[], object]) -> float:
    """Seconds between CUDA events recorded before and after ``fn`` on the
    current stream (waits for them)."""
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def device_label(device: torch.device) -> str:
    """The card's name for a CUDA device, ``'cpu'`` otherwise."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return 'cpu'


def make_timer(device) -> Timer:
    """CUDA events on a CUDA device, ``perf_counter`` elsewhere."""
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        return cuda_event_timer
    return perf_counter_timer


@dataclasses.dataclass
class WarmUp:
    """What :func:`warm_up` did: the call times, whether they settled."""

    times: List[float]
    stable: bool

    @property
    def steps(self) -> int:
        return len(self.times)


def is_stable(times: Sequence[float], window: int, tolerance: float) -> bool:
    """Whether the last ``window`` times vary by at most ``tolerance`` of
    their median ((max - min) / median)."""
    if len(times) < window:
        return False
    last = times[-window:]
    med = statistics.median(last)
    return med > 0 and (max(last) - min(last)) / med <= tolerance


def warm_up(
    fn: Callable[[], object],
    timer: Timer,
    window: int = 5,
    tolerance: float = 0.05,
    min_steps: int = 1,
    max_steps: int = 50,
) -> WarmUp:
    """Call ``fn`` until the last ``window`` call times are within
    ``tolerance`` of their median, after at least ``min_steps`` and at most
    ``max_steps`` calls (then ``stable`` is False)."""
    times: List[float] = []
    while len(times) < max_steps:
        times.append(timer(fn))
        if len(times) >= min_steps and is_stable(times, window, tolerance):
            return WarmUp(times, True)
    return WarmUp(times, False)


def summary(values: Sequence[float]) -> Dict[str, float]:
    """Median, quartiles (``statistics.quantiles``, inclusive), min, max."""
    v = sorted(values)
    q1, _, q3 = (
        statistics.quantiles(v, n=4, method='inclusive')
        if len(v) > 1
        else (v[0],) * 3
    )
    return dict(
        median=statistics.median(v),
        q1=q1,
        q3=q3,
        min=v[0],
        max=v[-1],
        n=len(v),
    )


def paired_ratio(
    num: Sequence[float], den: Sequence[float]
) -> Dict[str, object]:
    """Round-by-round ratio ``num[r] / den[r]``: its median and range."""
    if len(num) != len(den) or not num:
        raise ValueError(f'{len(num)} rounds against {len(den)}')
    ratios = [a / b for a, b in zip(num, den)]
    return dict(
        median=statistics.median(ratios),
        lo=min(ratios),
        hi=max(ratios),
        rounds=ratios,
    )


def verdict(ratio: Dict[str, object], target: Optional[float] = None) -> str:
    """What a ratio (:func:`paired_ratio`, higher is better) says.

    Without a target: ``'higher'`` / ``'lower'`` when the whole range is
    above / below 1.0, else ``'within noise of 1.0'``. With one:
    ``'meets target'`` when the whole range is at or above it,
    ``'misses target'`` when it is all below, else ``'within noise of the
    target'``.
    """
    lo, hi = ratio['lo'], ratio['hi']
    if target is None:
        if lo > 1.0:
            return 'higher'
        if hi < 1.0:
            return 'lower'
        return 'within noise of 1.0'
    if lo >= target:
        return 'meets target'
    if hi < target:
        return 'misses target'
    return 'within noise of the target'


@dataclasses.dataclass
class Case:
    """One thing to time: ``step`` is called, ``setup`` (optional) runs
    before each round's slot and may return a new ``step``, ``teardown``
    after it. ``min_warmup``: warm-up calls at least (e.g. to drain the
    batches a data loader prefetched while other cases ran)."""

    name: str
    step: Optional[Callable[[], object]] = None
    setup: Optional[Callable[[], Optional[Callable[[], object]]]] = None
    teardown: Optional[Callable[[], object]] = None
    min_warmup: int = 1


def interleaved_rounds(
    cases: Sequence[Case],
    timer: Timer,
    rounds: int = 3,
    steps: int = 10,
    window: int = 5,
    tolerance: float = 0.05,
    max_warmup: int = 50,
    log: Optional[Callable[[str], object]] = None,
    aggregate: str = 'median',
) -> Dict[str, Dict[str, object]]:
    """Time every case once per round, in an order rotated every round.

    In each slot the case warms up until stable (:func:`warm_up`, at least
    the case's ``min_warmup`` and at most ``max(max_warmup, min_warmup)``
    calls), then ``steps`` calls are timed; the slot's number is their
    median, or their mean with ``aggregate='mean'`` (what a throughput
    with occasional stalls, such as a data loader's, needs: the median
    would leave the stalls out).

    Returns:
        ``{name: dict(rounds=[slot medians], warmup=[warm-up steps],
        stable=[bool], first_call_s=<first call of round 1>,
        times=[[step times of each round]])}``.
    """
    if aggregate not in ('median', 'mean'):
        raise ValueError(f"aggregate must be 'median' or 'mean': {aggregate}")
    reduce = statistics.median if aggregate == 'median' else statistics.fmean
    out = {
        c.name: dict(
            rounds=[], warmup=[], stable=[], times=[], first_call_s=None
        )
        for c in cases
    }
    for r in range(rounds):
        k = r % len(cases)
        for case in list(cases[k:]) + list(cases[:k]):
            step = case.step
            if case.setup is not None:
                step = case.setup() or step
            rec = out[case.name]
            w = warm_up(
                step,
                timer,
                window,
                tolerance,
                min_steps=case.min_warmup,
                max_steps=max(max_warmup, case.min_warmup),
            )
            if rec['first_call_s'] is None:
                rec['first_call_s'] = w.times[0]
            times = [timer(step) for _ in range(steps)]
            rec['rounds'].append(reduce(times))
            rec['warmup'].append(w.steps)
            rec['stable'].append(w.stable)
            rec['times'].append(times)
            if case.teardown is not None:
                case.teardown()
            if log is not None:
                log(
                    f'round {r + 1}/{rounds} {case.name}: '
                    f'{1e3 * rec["rounds"][-1]:.2f} ms/step after '
                    f'{w.steps} warm-up steps'
                    + ('' if w.stable else ' (not stable)')
                )
    return out
