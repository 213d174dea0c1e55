"""Small helpers shared across the package."""

from __future__ import annotations

from typing import List

from mmengine.config import Config


def get_test_pipeline_cfg(cfg: Config) -> List[dict]:
    """The test pipeline of a config: the test dataloader's, else the
    top-level ``test_pipeline`` (as mmdet's ``get_test_pipeline_cfg``).

    Args:
        cfg: A loaded config.

    Raises:
        KeyError: The config has neither.
    """
    if 'test_dataloader' in cfg:
        return list(cfg.test_dataloader.dataset.pipeline)
    if 'test_pipeline' in cfg:
        return list(cfg.test_pipeline)
    raise KeyError('the config has no test_dataloader and no test_pipeline')


__all__ = ['get_test_pipeline_cfg']
