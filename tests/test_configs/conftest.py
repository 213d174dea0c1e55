"""The configs that carry the paper's recipe, for the guards in this folder.

Tests ask for one of these fixtures and run once per config:

* ``paper_config``: every config under ``configs/paper/``;
* ``public_config``: every config under ``configs/public/<dataset>/``;
* ``paper_variant``: the six variants of the paper (baseline, approaches
  1-4 and approach 1 read without attention), by name.

``load_config(path)`` returns a private copy of a parsed config (parsing is
cached, so a test may change its copy freely).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Callable, List

import pytest
from mmengine.config import Config

import mmfashion_attr  # noqa: F401  (registers the plugin's modules)

REPO = Path(__file__).resolve().parents[2]
PAPER_VARIANTS = (
    'baseline',
    'approach1',
    'approach1-noattn',
    'approach2',
    'approach3',
    'approach4',
)
PAPER_CONFIG = 'configs/paper/{}_effnetv2-m_8xb16_catalog-384px.py'


def _configs(pattern: str) -> List[str]:
    return sorted(p.relative_to(REPO).as_posix() for p in REPO.glob(pattern))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    params = dict(
        paper_config=_configs('configs/paper/*.py'),
        public_config=_configs('configs/public/*/*.py'),
        paper_variant=list(PAPER_VARIANTS),
    )
    for name, values in params.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values)


@functools.lru_cache(maxsize=None)
def _parse(path: str) -> Config:
    return Config.fromfile(str(REPO / path))


@pytest.fixture
def load_config() -> Callable[[str], Config]:
    """``load_config('configs/...py')``: a private copy of the config."""

    def load(path: str) -> Config:
        return copy.deepcopy(_parse(path))

    return load


@pytest.fixture
def paper_variant_config(paper_variant: str) -> str:
    """Path of the ``configs/paper/`` config of ``paper_variant``."""
    return PAPER_CONFIG.format(paper_variant)
