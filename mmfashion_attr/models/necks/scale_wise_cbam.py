"""Scale-specific attention: one CBAM per pyramid level (paper, Fig. 5)."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ScaleWiseCBAM(BaseModule):
    """Apply a separate :class:`CBAM` to each input level.

    Parekh & Shaik (VISAPP 2023) apply "scale-wise separate attention"
    after the FPN (approaches 1, 3, 4) and a single CBAM on the head conv
    (baseline). Each level has its own weights.

    Args:
        in_channels: Channels of each level, e.g. ``[80, 176, 512]``; an
            int for a single level.
        cbam_cfg: Config of each level's attention block (without
            ``channels``). Defaults to ``dict(type='CBAM')`` (reduction 16).
        init_cfg: Initialization config.
    """

    def __init__(
        self,
        in_channels: Union[int, Sequence[int]],
        cbam_cfg: dict = dict(type='CBAM'),
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        self.in_channels = list(in_channels)
        self.attentions = nn.ModuleList(
            MODELS.build(dict(cbam_cfg, channels=c)) for c in self.in_channels
        )

    def forward(
        self, inputs: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, ...]:
        if isinstance(inputs, torch.Tensor):
            inputs = (inputs,)
        if len(inputs) != len(self.attentions):
            raise ValueError(
                f'ScaleWiseCBAM built for {len(self.attentions)} '
                f'levels, got {len(inputs)}'
            )
        return tuple(att(x) for att, x in zip(self.attentions, inputs))
