"""Small helpers of mmfashion_attr.utils."""

import pytest
from mmengine.config import Config

from mmfashion_attr.utils import get_test_pipeline_cfg


def test_test_pipeline_from_dataloader_or_top_level():
    loader = [dict(type='ResizePad', scale=64)]
    top = [dict(type='ResizePad', scale=32)]
    cfg = Config(
        dict(
            test_dataloader=dict(dataset=dict(pipeline=loader)),
            test_pipeline=top,
        )
    )
    assert get_test_pipeline_cfg(cfg) == loader
    assert get_test_pipeline_cfg(Config(dict(test_pipeline=top))) == top
    with pytest.raises(KeyError, match='test_pipeline'):
        get_test_pipeline_cfg(Config(dict()))
