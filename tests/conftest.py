"""Shared fixtures: small schemas, tiny models, fast settings."""

import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

import mmfashion_attr  # noqa: E402,F401  (applies compat, registers)
from mmfashion_attr.schema import AttributeSchema  # noqa: E402

SMALL_SCHEMA = {
    'attributes': [
        {
            'name': 'category',
            'values': ['tee', 'jeans', 'dress'],
            'from_category': True,
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'sleeve',
            'values': ['short', 'long', 'none'],
            'roi': 'small',
            'granularity': 'coarse',
        },
        {
            'name': 'closure',
            'values': ['button', 'zip', 'drawstring', 'elastic'],
            'roi': 'small',
            'granularity': 'coarse',
        },
        {
            'name': 'colour',
            'values': ['red', 'blue', 'white'],
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'pattern',
            'values': ['solid', 'stripes', 'dots', 'checks', 'floral'],
            'roi': 'large',
            'granularity': 'fine',
        },
    ],
    'categories': ['tee', 'jeans', 'dress'],
    'allowed': {
        'tee': {
            'category': ['tee'],
            'sleeve': ['short', 'long'],
            'colour': ['red', 'blue', 'white'],
            'pattern': ['solid', 'stripes', 'dots'],
        },
        'jeans': {
            'category': ['jeans'],
            'closure': ['button', 'zip'],
            'colour': ['blue', 'white'],
            'pattern': ['solid', 'stripes'],
        },
    },
}


@pytest.fixture
def small_schema():
    return AttributeSchema.from_dict(SMALL_SCHEMA)


@pytest.fixture
def small_schema_dict():
    import copy

    return copy.deepcopy(SMALL_SCHEMA)
