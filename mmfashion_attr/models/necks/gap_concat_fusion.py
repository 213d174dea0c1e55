"""Feature fusion: global average pooling per level, then concatenation."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class GAPConcatFusion(BaseModule):
    """Pool every level to a vector and concatenate (paper, section 4.1.4).

    With the channel-preserving FPN on EfficientNetV2-M this gives
    80 + 176 + 512 = 768 features; with the RetinaNet FPN 5 x 256 = 1280.

    Args:
        levels: Indices of the input levels to fuse. Defaults to all.
        init_cfg: Initialization config.
    """

    def __init__(
        self,
        levels: Optional[Sequence[int]] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.levels = None if levels is None else list(levels)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        if isinstance(inputs, torch.Tensor):
            inputs = (inputs,)
        if self.levels is not None:
            inputs = [inputs[i] for i in self.levels]
        pooled = [x.mean(dim=(2, 3)) for x in inputs]
        return (torch.cat(pooled, dim=1),)
