"""CBAM: Convolutional Block Attention Module (Woo et al., ECCV 2018).

Channel attention, then spatial attention, on one feature map:

* channel: ``Mc = sigmoid(MLP(avgpool(F)) + MLP(maxpool(F)))``, the MLP
  (``C -> C/r -> C``, ReLU) shared by both pooled descriptors;
  ``F' = Mc * F``;
* spatial: ``Ms = sigmoid(conv7x7([mean_c(F'); max_c(F')]))``;
  ``F'' = Ms * F'``.

Written from the paper's equations (1)-(4); the paper under implementation
(Parekh & Shaik, VISAPP 2023, section 4.1.2) uses CBAM after the backbone.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class CBAM(BaseModule):
    """Channel-then-spatial attention on one feature map.

    Args:
        channels: Number of input (= output) channels.
        reduction: Channel reduction ratio ``r`` of the shared MLP.
            Defaults to 16 as in the CBAM paper.
        min_hidden: Lower bound of the MLP's hidden width ``C // r``.
            Defaults to 1.
        spatial_kernel: Kernel size of the spatial attention conv.
            Defaults to 7.
        act_cfg: Activation of the MLP. Defaults to ReLU.
        spatial_norm_cfg: Optional norm after the spatial conv (the CBAM
            reference code uses BN). Defaults to None (conv with bias).
        use_channel: Apply channel attention. Defaults to True.
        use_spatial: Apply spatial attention. Defaults to True.
        init_cfg: Initialization config.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        min_hidden: int = 1,
        spatial_kernel: int = 7,
        act_cfg: dict = dict(type='ReLU'),
        spatial_norm_cfg: Optional[dict] = None,
        use_channel: bool = True,
        use_spatial: bool = True,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not (use_channel or use_spatial):
            raise ValueError('CBAM needs channel or spatial attention')
        self.channels = channels
        self.use_channel = use_channel
        self.use_spatial = use_spatial
        hidden = max(min_hidden, channels // reduction)
        if use_channel:
            self.mlp = nn.Sequential(
                nn.Linear(channels, hidden),
                build_activation_layer(act_cfg),
                nn.Linear(hidden, channels),
            )
        if use_spatial:
            self.spatial_conv = nn.Conv2d(
                2,
                1,
                spatial_kernel,
                padding=spatial_kernel // 2,
                bias=spatial_norm_cfg is None,
            )
            self.spatial_norm = (
                build_norm_layer(spatial_norm_cfg, 1)[1]
                if spatial_norm_cfg
                else nn.Identity()
            )

    def channel_attention(self, x: torch.Tensor) -> torch.Tensor:
        """Channel weights ``Mc`` of shape ``(N, C, 1, 1)``."""
        n = x.shape[0]
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=0)
        a = self.mlp(pooled)  # one pass over both descriptors
        return torch.sigmoid(a[:n] + a[n:])[:, :, None, None]

    def spatial_attention(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial weights ``Ms`` of shape ``(N, 1, H, W)``."""
        desc = torch.cat(
            [x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1
        )
        return torch.sigmoid(self.spatial_norm(self.spatial_conv(desc)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_channel:
            x = x * self.channel_attention(x)
        if self.use_spatial:
            x = x * self.spatial_attention(x)
        return x
