"""Whether a conversion may count as a success, and whether it was written.

A converter skips and counts bad source items (see
:class:`~.base.ConversionReport`); that must not turn a mostly unreadable
source into a quiet success. :func:`conversion_problems` lists what makes a
conversion a failure: a split without records, or more rejected source
items than a set share. :func:`unwritten_files` lists the outputs that are
not on disk after writing.
"""

from __future__ import annotations

import os.path as osp
from typing import Dict, List

from .base import Conversion

# Share of rejected source items above which a conversion fails. Clean
# public releases convert with no rejection at all; a few broken rows in
# a large file stay below it, a file of another format does not.
DEFAULT_MAX_REJECT_RATIO = 0.05


def _top_kinds(counts: Dict[str, int], n: int = 3) -> str:
    kinds = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    return ', '.join(f'{k} {v}' for k, v in kinds)


def conversion_problems(
    conv: Conversion,
    max_reject_ratio: float = DEFAULT_MAX_REJECT_RATIO,
    allow_empty: bool = False,
) -> List[str]:
    """Why ``conv`` is not a usable conversion (empty list: it is).

    Args:
        conv: A converter's result.
        max_reject_ratio: Largest share of the source items (rows, lines,
            annotations) that may be rejected for errors.
        allow_empty: Do not require records (``--schema-only``).

    Returns:
        One line per problem.
    """
    if not 0 <= max_reject_ratio <= 1:
        raise ValueError(
            f'max_reject_ratio must be in [0, 1], not {max_reject_ratio}'
        )
    problems = []
    rep = conv.report
    if rep.inputs and rep.rejected / rep.inputs > max_reject_ratio:
        problems.append(
            f'{rep.rejected} of {rep.inputs} source items '
            f'({rep.rejected / rep.inputs:.1%}) were rejected, more than '
            f'the allowed {max_reject_ratio:.1%} (--max-reject-ratio); '
            f'errors: {_top_kinds(rep.error_counts)}'
        )
    if not allow_empty:
        if not conv.splits:
            problems.append('no split was read')
        for split, records in conv.splits.items():
            if not records:
                dropped = {
                    k.split('/', 1)[1]: v
                    for k, v in rep.stats.items()
                    if k.startswith(f'{split}/')
                    and v
                    and not k.endswith('/records')
                }
                why = f' ({_top_kinds(dropped)})' if dropped else ''
                problems.append(f'split {split!r} has no record{why}')
    return problems


def unwritten_files(conv: Conversion, written: Dict[str, str], out_dir: str):
    """Outputs missing after :func:`~.base.write_conversion`.

    Args:
        conv: The conversion that was written.
        written: Its ``{name: path}`` result.
        out_dir: The output folder (crops are relative to it).

    Returns:
        ``(missing_files, missing_crops)``: the annotation files that are
        not regular files, and the number of crops that were not written
        (unreadable source images, boxes outside the image).
    """
    missing = [p for p in written.values() if not osp.isfile(p)]
    schema = written.get('schema')
    if schema and osp.isfile(schema) and osp.getsize(schema) == 0:
        missing.append(schema)
    crops = sum(
        not osp.isfile(osp.join(out_dir, job.dst))
        for jobs in conv.crops.values()
        for job in jobs
    )
    return missing, crops


__all__ = [
    'DEFAULT_MAX_REJECT_RATIO',
    'conversion_problems',
    'unwritten_files',
]
