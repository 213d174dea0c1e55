"""FPN that keeps each level's channel count (paper, section 4.1.3).

Parekh & Shaik build the FPN of approaches 2 and 3 "in the same manner as
in the original paper but ... kept the number of channels at each feature
layer consistent": on EfficientNetV2-M the outputs are 80x48x48,
176x24x24 and 512x12x12 (768 features after pooling), rather than a common
256 channels as in RetinaNet (approach 4, which uses mmdet's ``FPN`` as is).
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmpretrain.registry import MODELS

from ...utils.compat import get_mmdet_fpn

MMDetFPN = get_mmdet_fpn()


@MODELS.register_module()
class ChannelPreservingFPN(MMDetFPN):
    """mmdet's :class:`~mmdet.models.necks.FPN` with per-level channels.

    Subclass of mmdet's own FPN (``isinstance`` holds, and level selection,
    extra levels, norm/act configs and initialisation behave as there). The
    differences:

    * the lateral 1x1 conv and the output 3x3 conv of level ``i`` keep
      ``in_channels[i]`` channels;
    * in the top-down path the coarser level is projected to the finer
      level's channels by a 1x1 conv (``top_down_convs``) before it is
      upsampled and added. A 1x1 conv commutes with nearest upsampling, so
      projecting first computes the same sum at a quarter of the cost. When
      two adjacent levels have the same channels no projection is used, and
      the neck computes exactly what mmdet's FPN computes (tested);
    * extra levels (``num_outs`` above the inputs) keep the top level's
      channel count.

    Args:
        in_channels: Channels of each input level, e.g. ``[80, 176, 512]``.
        num_outs: Number of output levels. Defaults to the number of used
            input levels.
        start_level, end_level, add_extra_convs, relu_before_extra_convs,
        no_norm_on_lateral, conv_cfg, norm_cfg, act_cfg, upsample_cfg,
        init_cfg: As in mmdet's ``FPN``.
    """

    def __init__(
        self,
        in_channels: List[int],
        num_outs: Optional[int] = None,
        start_level: int = 0,
        end_level: int = -1,
        add_extra_convs: Union[bool, str] = False,
        relu_before_extra_convs: bool = False,
        no_norm_on_lateral: bool = False,
        conv_cfg: Optional[dict] = None,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = None,
        upsample_cfg: dict = dict(mode='nearest'),
        init_cfg: Union[dict, list] = dict(
            type='Xavier', layer='Conv2d', distribution='uniform'
        ),
    ) -> None:
        in_channels = list(in_channels)
        last = len(in_channels) if end_level == -1 else end_level + 1
        if num_outs is None:
            num_outs = last - start_level
        # mmdet's constructor validates the level arguments and sets the
        # attributes; its uniform-width convs are replaced below. The
        # smallest width keeps that throw-away build cheap.
        super().__init__(
            in_channels,
            min(in_channels),
            num_outs,
            start_level,
            end_level,
            add_extra_convs,
            relu_before_extra_convs,
            no_norm_on_lateral,
            conv_cfg,
            norm_cfg,
            act_cfg,
            upsample_cfg,
            init_cfg,
        )
        used = in_channels[self.start_level : self.backbone_end_level]
        self.out_channels = list(used) + [used[-1]] * (
            self.num_outs - len(used)
        )

        def conv(cin, cout, k, stride=1, norm=norm_cfg):
            return ConvModule(
                cin,
                cout,
                k,
                stride=stride,
                padding=k // 2,
                conv_cfg=conv_cfg,
                norm_cfg=norm,
                act_cfg=act_cfg,
                inplace=False,
            )

        lateral_norm = None if no_norm_on_lateral else norm_cfg
        self.lateral_convs = nn.ModuleList(
            conv(c, c, 1, norm=lateral_norm) for c in used
        )
        self.fpn_convs = nn.ModuleList(conv(c, c, 3) for c in used)
        self.top_down_convs = nn.ModuleList(
            nn.Identity()
            if used[i] == used[i - 1]
            else conv(used[i], used[i - 1], 1, norm=lateral_norm)
            for i in range(1, len(used))
        )
        extra = self.num_outs - len(used)
        if self.add_extra_convs and extra >= 1:
            for i in range(extra):
                if i == 0 and self.add_extra_convs == 'on_input':
                    cin = self.in_channels[self.backbone_end_level - 1]
                else:
                    cin = used[-1]
                self.fpn_convs.append(conv(cin, used[-1], 3, stride=2))

    def forward(
        self, inputs: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'{type(self).__name__} expects '
                f'{len(self.in_channels)} levels, got '
                f'{len(inputs)}'
            )
        laterals = [
            conv(inputs[i + self.start_level])
            for i, conv in enumerate(self.lateral_convs)
        ]
        for i in range(len(laterals) - 1, 0, -1):
            top = self.top_down_convs[i - 1](laterals[i])
            if 'scale_factor' in self.upsample_cfg:
                up = F.interpolate(top, **self.upsample_cfg)
            else:
                up = F.interpolate(
                    top, size=laterals[i - 1].shape[2:], **self.upsample_cfg
                )
            laterals[i - 1] = laterals[i - 1] + up
        outs = [conv(lat) for conv, lat in zip(self.fpn_convs, laterals)]
        used = len(laterals)
        if self.num_outs > used:
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                source = {
                    'on_input': inputs[self.backbone_end_level - 1],
                    'on_lateral': laterals[-1],
                    'on_output': outs[-1],
                }[self.add_extra_convs]
                outs.append(self.fpn_convs[used](source))
                for i in range(used + 1, self.num_outs):
                    x = outs[-1]
                    if self.relu_before_extra_convs:
                        x = F.relu(x)
                    outs.append(self.fpn_convs[i](x))
        return tuple(outs)
