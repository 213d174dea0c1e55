"""Read the predictions that ``tools/test.py --out preds.pkl`` dumps.

mmpretrain's ``test.py --out FILE.pkl`` appends mmengine's ``DumpResults``
to the test evaluator: a pickled list with one dict per sample
(``pred_score``, ``gt_attr``, ``gt_attr_mask``, ``category_idx``,
``img_path``, ...). A pickle can run code when loaded, so it is read with
:func:`mmfashion_attr.utils.checkpoint.load_pickle_safely`, which resolves
only the allow-listed classes such a file contains (tensors, numpy arrays,
plain containers); anything else is refused.
"""

from __future__ import annotations

import pickle
from typing import List, Optional, Union

import numpy as np
from mmengine.config import Config

from ..structures import AttributeSchema
from ..utils.checkpoint import load_pickle_safely
from .metrics.attribute_metric import AttributeMetric


def load_prediction_samples(path: str) -> List[dict]:
    """The per-sample dicts of a ``test.py --out`` pickle, read safely."""
    try:
        samples = load_pickle_safely(path)
    except pickle.UnpicklingError as e:
        raise ValueError(f'{path}: {e}') from None
    if not isinstance(samples, list) or not all(
        isinstance(s, dict) and 'pred_score' in s for s in samples
    ):
        raise ValueError(
            f'{path}: expected a list of per-sample dicts with '
            "'pred_score' (tools/test.py --out FILE.pkl)"
        )
    return samples


def load_predictions(
    path: str, schema: AttributeSchema, use_category_mask: bool = True
):
    """``(scores, gt, mask, category_idx)`` arrays of the labelled samples
    of a ``test.py --out`` pickle; ``mask`` has the category mask applied.
    """
    samples = load_prediction_samples(path)
    metric = AttributeMetric(
        schema=schema, use_category_mask=use_category_mask
    )
    metric.process(None, samples)
    if not metric.results:
        raise ValueError(f'{path}: no labelled sample (gt_attr) to tune on')
    width = len(metric.results[0]['pred_score'])
    if width != schema.num_values:
        raise ValueError(
            f'{path}: scores have {width} entries but the '
            f'schema has {schema.num_values} values'
        )
    scores, gt, mask = metric.stack(metric.results)
    cats = np.array([r['category_idx'] for r in metric.results])
    return scores, gt, mask, cats


def schema_from_config(
    config: Union[str, Config], schema: Optional[str] = None
) -> AttributeSchema:
    """The schema given explicitly, else the one of the config's head."""
    if schema is not None:
        return AttributeSchema.build(schema)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    head_schema = cfg.model.head.schema
    if isinstance(head_schema, str):
        return AttributeSchema.load(head_schema)
    return AttributeSchema.from_dict(dict(head_schema))


def read_predictions(
    path: str,
    config: Union[None, str, Config] = None,
    schema: Optional[str] = None,
    use_category_mask: bool = True,
):
    """``(schema, scores, gt, mask, category_idx)`` of a ``test.py --out``
    pickle, with the schema given or the one of the config's head (see
    :func:`schema_from_config` and :func:`load_predictions`)."""
    attr_schema = schema_from_config(config, schema)
    return (
        attr_schema,
        *load_predictions(
            path, attr_schema, use_category_mask=use_category_mask
        ),
    )
