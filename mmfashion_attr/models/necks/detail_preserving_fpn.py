"""Top-down pyramid that concatenates instead of adding (U-Net style): a
named fix of the paper's approach 3, not one of its variants."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DetailPreservingFPN(BaseModule):
    """Feature pyramid whose top-down path keeps each level's own signal.

    In the FPN of Lin et al. (CVPR 2017), the level ``i`` output is
    ``conv3x3(lateral_i + up(top_i+1))``, with no normalisation and no
    non-linearity. For classification with global pooling this has two
    weaknesses: the sum lets the (larger, semantically stronger) top-down
    signal swamp the fine level's detail (on the demo catalog, 97-99 % of
    the finest level's energy comes from the top-down path, as
    ``tools/analysis_tools/fpn_energy.py`` measures), and global average
    pooling of a linear map of the levels is, up to border effects, a
    linear map of the pooled levels, so the pyramid adds little that a
    linear layer on the pooled taps could not.

    Here, as in the decoder of U-Net (Ronneberger et al., MICCAI 2015),
    the two signals are concatenated and mixed by a 3x3 convolution with
    normalisation and activation:

    * lateral ``l_i = act(norm(conv1x1(C_i)))`` (each level normalised
      before fusion);
    * top level ``P_top = l_top``;
    * ``P_i = act(norm(conv3x3(concat[l_i, up(P_i+1)])))`` going down.

    Level ``i`` keeps ``out_channels[i]`` channels (default: its input
    channels, as the channel-preserving FPN of Parekh & Shaik, VISAPP 2023,
    section 4.1.3).

    Args:
        in_channels: Channels of each input level, finest first.
        out_channels: Channels of each output level. Defaults to
            ``in_channels``.
        norm_cfg: Normalisation of every conv. Defaults to BN.
        act_cfg: Activation of every conv. Defaults to ReLU.
        upsample_mode: Interpolation of the top-down path. Defaults to
            ``'nearest'``.
        init_cfg: Initialization config.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: Optional[Sequence[int]] = None,
        norm_cfg: Optional[dict] = dict(type='BN'),
        act_cfg: Optional[dict] = dict(type='ReLU'),
        upsample_mode: str = 'nearest',
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        out = list(in_channels if out_channels is None else out_channels)
        if len(out) != len(self.in_channels):
            raise ValueError(
                f'{len(out)} out_channels for {len(self.in_channels)} levels'
            )
        self.out_channels = out
        self.upsample_mode = upsample_mode

        def conv(cin, cout, k):
            return ConvModule(
                cin,
                cout,
                k,
                padding=k // 2,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
            )

        self.lateral_convs = nn.ModuleList(
            conv(c, o, 1) for c, o in zip(self.in_channels, out)
        )
        self.fuse_convs = nn.ModuleList(
            conv(out[i] + out[i + 1], out[i], 3) for i in range(len(out) - 1)
        )

    def forward(
        self, inputs: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'{type(self).__name__} expects {len(self.in_channels)} '
                f'levels, got {len(inputs)}'
            )
        lat = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        outs = [lat[-1]]
        for i in range(len(lat) - 2, -1, -1):
            up = F.interpolate(
                outs[0], size=lat[i].shape[2:], mode=self.upsample_mode
            )
            outs.insert(0, self.fuse_convs[i](torch.cat([lat[i], up], 1)))
        return tuple(outs)
