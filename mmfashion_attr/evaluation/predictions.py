"""Read the predictions that ``tools/test.py --out preds.pkl`` dumps.

mmpretrain's ``test.py --out FILE.pkl`` appends mmengine's ``DumpResults``
to the test evaluator: a pickled list with one dict per sample
(``pred_score``, ``gt_attr``, ``gt_attr_mask``, ``category_idx``,
``img_path``, ...). A pickle can run code when loaded, so it is read with
an unpickler that resolves only the classes such a file contains (tensors,
numpy arrays, plain containers), and the tensor storages inside it with
``torch.load(weights_only=True)``; anything else is refused.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config

from ..schema import AttributeSchema
from .metrics.attribute_metric import AttributeMetric

# (module, name) pairs a DumpResults pickle of our data samples holds.
_ALLOWED = {
    ('_codecs', 'encode'),
    ('collections', 'OrderedDict'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_tensor'),
    ('torch', 'Size'),
    ('torch', 'device'),
    ('torch', 'FloatStorage'),
    ('torch', 'ByteStorage'),
    ('torch', 'LongStorage'),
    ('torch', 'BoolStorage'),
    ('torch', 'float32'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', 'scalar'),
}


def _storage_from_bytes(data: bytes):
    """``torch.storage._load_from_bytes`` with ``weights_only=True`` (the
    original passes ``weights_only=False``: a pickle inside the pickle)."""
    return torch.load(io.BytesIO(data), weights_only=True)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ('torch.storage', '_load_from_bytes'):
            return _storage_from_bytes
        if (module, name) in _ALLOWED or (
            module == 'numpy.dtypes' and name.endswith('DType')
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refusing to load {module}.{name} from a predictions file '
            '(only tensors, arrays and plain containers are allowed)'
        )


def load_prediction_samples(path: str) -> List[dict]:
    """The per-sample dicts of a ``test.py --out`` pickle, read safely."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        samples = _RestrictedUnpickler(io.BytesIO(data)).load()
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


def add_prediction_args(parser) -> None:
    """The ``PREDICTIONS.pkl`` argument and ``--config`` / ``--schema`` of
    the tools that read ``test.py --out`` files."""
    parser.add_argument('predictions', help='tools/test.py --out FILE.pkl')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--config', help='config whose head names the schema')
    src.add_argument('--schema', help='schema.json')


def predictions_from_args(args, use_category_mask: bool = True):
    """``(schema, scores, gt, mask, category_idx)`` for parsed arguments of
    :func:`add_prediction_args`."""
    schema = schema_from_config(args.config, args.schema)
    return (
        schema,
        *load_predictions(
            args.predictions, schema, use_category_mask=use_category_mask
        ),
    )
