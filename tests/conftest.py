"""Shared fixtures: the test schemas, a short temporary root, fast
settings."""

import copy
import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

import mmfashion_attr  # noqa: E402,F401  (applies compat, registers)
from mmfashion_attr.structures import AttributeSchema  # noqa: E402
from tests.helpers.schemas import (  # noqa: E402
    SMALL_SCHEMA,
    TINY_SCHEMA,
    VARIANT_SCHEMA,
)


@pytest.fixture
def small_schema():
    return AttributeSchema.from_dict(SMALL_SCHEMA)


@pytest.fixture
def small_schema_dict():
    return copy.deepcopy(SMALL_SCHEMA)


@pytest.fixture
def tiny_schema_dict():
    return copy.deepcopy(TINY_SCHEMA)


@pytest.fixture(scope='module')
def variant_schema_file(tmp_path_factory):
    """:data:`VARIANT_SCHEMA` as a JSON file."""
    import json

    p = tmp_path_factory.mktemp('schema') / 'schema.json'
    p.write_text(json.dumps(VARIANT_SCHEMA))
    return str(p)


@pytest.fixture(name='root')
def short_root(tmp_path_factory):
    """A short folder (mmengine formats every config with yapf, which is
    many times slower on the long strings of ``tmp_path``); one torch
    thread (the tiny model gains nothing from more, and loses much on a
    busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield str(tmp_path_factory.mktemp('r'))
    torch.set_num_threads(threads)
