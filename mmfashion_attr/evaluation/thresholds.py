"""Decision thresholds: parse, load and expand to one per value.

The paper thresholds every sigmoid at 0.3 (Parekh & Shaik, VISAPP 2023,
section 5.3). A threshold spec is a float (one for all values), a dict or a
JSON file written by ``tools/analysis_tools/tune_thresholds.py``::

    {"default": 0.35,
     "attributes": {"colour": 0.42},
     "values": {"colour/red": 0.51}}

A value's threshold is its own entry, else its attribute's, else the
default. The metrics, the extractor, the ONNX export and the PR curves all
read thresholds through this module.
"""

from __future__ import annotations

import json
from typing import Union

import numpy as np

from ..structures import AttributeSchema

DEFAULT_THRESHOLD = 0.3

ThresholdSpec = Union[None, float, str, dict]


def parse_thresholds(text: str) -> Union[float, str]:
    """A command-line threshold argument: a float, else a JSON file path."""
    try:
        return float(text)
    except ValueError:
        return text


def load_thresholds(thresholds: ThresholdSpec) -> dict:
    """Normalise a threshold spec to ``{'default': t, 'attributes': {...},
    'values': {'attr/value': t}}``.

    Args:
        thresholds: None (the paper's 0.3), a float, a dict with any of the
            three keys, or the path of a JSON file with them.
    """
    if thresholds is None:
        return dict(default=DEFAULT_THRESHOLD, attributes={}, values={})
    if isinstance(thresholds, (int, float)):
        return dict(default=float(thresholds), attributes={}, values={})
    if isinstance(thresholds, str):
        with open(thresholds, encoding='utf-8') as f:
            thresholds = json.load(f)
    return dict(
        default=float(thresholds.get('default', DEFAULT_THRESHOLD)),
        attributes=dict(thresholds.get('attributes', {})),
        values=dict(thresholds.get('values', {})),
    )


def threshold_vector(
    schema: AttributeSchema, thresholds: ThresholdSpec
) -> np.ndarray:
    """Per flat value thresholds ``(num_values,)``: value, else attribute,
    else default."""
    spec = load_thresholds(thresholds)
    out = np.full(schema.num_values, spec['default'], dtype=np.float32)
    for i, a in enumerate(schema.attributes):
        sl = schema.slice(i)
        if a.name in spec['attributes']:
            out[sl] = float(spec['attributes'][a.name])
        for j, v in enumerate(a.values):
            key = f'{a.name}/{v}'
            if key in spec['values']:
                out[sl.start + j] = float(spec['values'][key])
    return out


__all__ = [
    'DEFAULT_THRESHOLD',
    'load_thresholds',
    'parse_thresholds',
    'threshold_vector',
]
