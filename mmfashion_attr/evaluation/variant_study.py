"""Statistics of a variant study: several configs, several seeds each.

Parekh & Shaik (VISAPP 2023) compare a baseline and four multi-scale
variants by per-attribute micro-F1 (their Tables 1 and 3), one run each.
From scratch on a small catalog one run proves little: the seed moves an
attribute's F1 more than the architecture does. This module turns the
test metrics of ``configs x seeds`` runs into

* per run: the micro-F1 of every attribute and the mean over each schema
  group (``roi/small``, ``granularity/fine``, ... and ``all``);
* per config: mean over seeds, sample standard deviation and a 95 %
  confidence interval of the mean (Student's t);
* per config against the reference config: the paired difference over
  the seeds both have (same seed, same data order and initialisation
  draw), with its own 95 % interval; pairing removes the part of the
  seed-to-seed swing the two configs share.

The t quantiles are the standard two-sided 95 % values (any statistics
table; tested against :func:`scipy.stats.t.ppf`).
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from ..structures import AttributeSchema

# Two-sided 95 % quantiles t(0.975, df) for df = 1 .. 30.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
# Beyond 30: (df, quantile) anchors, interpolated linearly in 1 / df.
_T975_TAIL = ((30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980))
_Z975 = 1.960

ALL = 'all'


def t_quantile_975(df: int) -> float:
    """Two-sided 95 % Student-t quantile ``t(0.975, df)``.

    Args:
        df: Degrees of freedom (>= 1).
    """
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}')
    if df <= len(_T975):
        return _T975[df - 1]
    anchors = list(_T975_TAIL) + [(math.inf, _Z975)]
    for (d0, q0), (d1, q1) in zip(anchors, anchors[1:]):
        if df <= d1:
            x0, x1, x = 1 / d0, (0 if d1 == math.inf else 1 / d1), 1 / df
            return q0 + (q1 - q0) * (x - x0) / (x1 - x0)
    return _Z975


def mean_ci(values: Iterable[float]) -> Dict[str, Optional[float]]:
    """Mean, sample standard deviation and 95 % interval of the mean.

    Args:
        values: One number per seed (NaNs are an error: a run without the
            number is not a run with F1 0).

    Returns:
        ``dict(n, mean, std, ci95, low, high)``; ``std`` and the interval
        are None for fewer than 2 values.
    """
    v = np.asarray(list(values), dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError('mean_ci got NaN values')
    n = int(v.size)
    if n == 0:
        return dict(n=0, mean=None, std=None, ci95=None, low=None, high=None)
    mean = float(v.mean())
    if n < 2:
        return dict(n=1, mean=mean, std=None, ci95=None, low=None, high=None)
    std = float(v.std(ddof=1))
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return dict(
        n=n, mean=mean, std=std, ci95=half, low=mean - half, high=mean + half
    )


def attribute_groups(schema: AttributeSchema) -> Dict[str, List[str]]:
    """The schema's groups (``roi/small``, ``granularity/fine``, ...),
    their crossings (``roi/small+granularity/fine``: the cells of the
    paper's Table 2) and ``all``."""
    groups = {ALL: list(schema.names)}
    groups.update(schema.groups())
    for a in schema.attributes:
        if a.roi and a.granularity:
            key = f'roi/{a.roi}+granularity/{a.granularity}'
            groups.setdefault(key, []).append(a.name)
    return groups


def run_scores(
    metrics: Mapping[str, float],
    schema: AttributeSchema,
    prefix: str = 'attr/',
    metric: str = 'micro_f1',
) -> Dict[str, float]:
    """Per-attribute and per-group scores of one run.

    Args:
        metrics: A test run's metrics (``attr/<attribute>/micro_f1``...).
        schema: The schema (its attributes and groups).
        prefix: Prefix of the metric keys. Defaults to ``'attr/'``.
        metric: Which per-attribute number. Defaults to ``'micro_f1'``.

    Returns:
        ``{attribute: score, group: mean over its attributes}``. An
        attribute the run has no number for (no labelled test entry) is
        left out, and so are groups without any.
    """
    out: Dict[str, float] = {}
    for name in schema.names:
        key = f'{prefix}{name}/{metric}'
        if key in metrics:
            out[name] = float(metrics[key])
    for group, names in attribute_groups(schema).items():
        have = [out[n] for n in names if n in out]
        if have:
            out[group] = float(np.mean(have))
    return out


def summarize(
    runs: Mapping[str, Mapping[int, Mapping[str, float]]],
    schema: AttributeSchema,
    reference: Optional[str] = None,
    constant: Optional[Mapping[str, float]] = None,
) -> dict:
    """Summary of a variant study.

    Args:
        runs: ``{config: {seed: run_scores(...)}}``.
        schema: The attribute schema shared by all configs.
        reference: The config the others are compared with. Defaults to
            the first one.
        constant: Scores of the constant predictor (``run_scores`` of its
            metrics), for the margin of each run over it.

    Returns:
        A JSON-ready dict: ``keys`` (attributes, then groups), ``configs``
        with ``per_seed``, ``stats`` (:func:`mean_ci` per key),
        ``diff_to_reference`` (paired, over common seeds) and, with
        ``constant``, ``min_margin_over_constant`` (worst seed).
    """
    configs = list(runs)
    if not configs:
        raise ValueError('no runs to summarize')
    reference = configs[0] if reference is None else reference
    if reference not in runs:
        raise KeyError(f'reference {reference!r} has no runs')
    keys = list(schema.names) + [
        g for g in attribute_groups(schema) if g not in schema.names
    ]
    out = dict(reference=reference, keys=[], configs={})
    present = set()
    for cfg in configs:
        seeds = sorted(runs[cfg])
        per_seed = {str(s): dict(runs[cfg][s]) for s in seeds}
        stats, diffs, margins = {}, {}, {}
        ref = runs[reference]
        common = [s for s in seeds if s in ref]
        for key in keys:
            vals = [runs[cfg][s][key] for s in seeds if key in runs[cfg][s]]
            if not vals:
                continue
            present.add(key)
            stats[key] = mean_ci(vals)
            if cfg != reference:
                d = [
                    runs[cfg][s][key] - ref[s][key]
                    for s in common
                    if key in runs[cfg][s] and key in ref[s]
                ]
                diffs[key] = dict(mean_ci(d), seeds=len(d))
            if constant is not None and key in constant:
                margins[key] = float(min(vals) - constant[key])
        entry = dict(seeds=seeds, per_seed=per_seed, stats=stats)
        if cfg != reference:
            entry['diff_to_reference'] = diffs
        if constant is not None:
            entry['min_margin_over_constant'] = margins
        out['configs'][cfg] = entry
    out['keys'] = [k for k in keys if k in present]
    if constant is not None:
        out['constant'] = {
            k: constant[k] for k in out['keys'] if k in constant
        }
    return out


def format_table(
    summary: dict, keys: Optional[Sequence[str]] = None, digits: int = 3
) -> str:
    """A Markdown table: rows are configs, columns the keys, each cell
    ``mean ± ci95``; below it the paired differences to the reference.

    Args:
        summary: What :func:`summarize` returned.
        keys: Columns. Defaults to every key of the summary.
        digits: Decimals.
    """
    keys = list(summary['keys'] if keys is None else keys)

    def cell(s):
        if s is None or s.get('mean') is None:
            return '-'
        if s.get('ci95') is None:
            return f'{s["mean"]:.{digits}f}'
        return f'{s["mean"]:.{digits}f} ± {s["ci95"]:.{digits}f}'

    def signed(s):
        if s is None or s.get('mean') is None:
            return '-'
        text = f'{s["mean"]:+.{digits}f}'
        if s.get('ci95') is not None:
            text += f' [{s["low"]:+.{digits}f}, {s["high"]:+.{digits}f}]'
        return text

    head = '| config | seeds | ' + ' | '.join(keys) + ' |'
    rule = '|' + '---|' * (len(keys) + 2)
    lines = ['Mean over seeds ± 95 % interval:', '', head, rule]
    for name, c in summary['configs'].items():
        cells = [cell(c['stats'].get(k)) for k in keys]
        lines.append(f'| {name} | {len(c["seeds"])} | ' + ' | '.join(cells))
        lines[-1] += ' |'
    if summary.get('constant'):
        cells = [
            f'{summary["constant"][k]:.{digits}f}'
            if k in summary['constant']
            else '-'
            for k in keys
        ]
        lines.append('| constant predictor | - | ' + ' | '.join(cells) + ' |')
    ref = summary['reference']
    lines += [
        '',
        f'Paired difference to {ref} (mean [95 % interval]):',
        '',
        head,
        rule,
    ]
    for name, c in summary['configs'].items():
        if name == ref:
            continue
        d = c['diff_to_reference']
        cells = [signed(d.get(k)) for k in keys]
        seeds = max((d[k]['seeds'] for k in d), default=0)
        lines.append(f'| {name} | {seeds} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
