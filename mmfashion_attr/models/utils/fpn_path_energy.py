"""How much of each FPN level comes from the top-down path.

An FPN level ``i`` below the top is ``fpn_conv(L_i + T_i)``: ``L_i`` is the
lateral projection of the backbone tap, ``T_i`` the upsampled (and, in
:class:`~mmfashion_attr.models.necks.ChannelPreservingFPN`, projected) sum of
the coarser levels (Lin et al., "Feature Pyramid Networks for Object
Detection", CVPR 2017, Fig. 3). When ``T_i`` dominates, what the fine level
carries is mostly the coarse levels' content spread over a finer grid, and
the small-region detail of ``L_i`` is a small part of the sum the attention
and the pooling see. This module measures that share on real inputs.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def _spatial_var(x: torch.Tensor) -> float:
    """Sum over the batch of the channel-mean spatial variance."""
    return x.var((2, 3), unbiased=False).mean(1).sum().item()


class FPNPathEnergy:
    """Accumulates, per FPN level, the energy of the lateral and top-down
    terms of the sum that enters the level's output conv.

    Works with mmdet's ``FPN`` and its subclasses (the top-down projection
    ``top_down_convs`` of ``ChannelPreservingFPN`` is applied when
    present). Only the levels built from backbone inputs are measured; the
    top one has no top-down term.

    Args:
        fpn: The FPN module (mmdet's ``FPN`` or a subclass).
    """

    def __init__(self, fpn: nn.Module) -> None:
        self.fpn = fpn
        self.sums: Dict[int, Dict[str, float]] = {}

    @torch.no_grad()
    def update(self, inputs: Sequence[torch.Tensor]) -> None:
        """Add one batch of backbone features (the FPN's inputs)."""
        fpn = self.fpn
        laterals = [
            conv(inputs[i + fpn.start_level])
            for i, conv in enumerate(fpn.lateral_convs)
        ]
        projections = getattr(fpn, 'top_down_convs', None)
        merged = list(laterals)
        for i in range(len(merged) - 1, 0, -1):
            top = merged[i]
            if projections is not None:
                top = projections[i - 1](top)
            if 'scale_factor' in fpn.upsample_cfg:
                up = F.interpolate(top, **fpn.upsample_cfg)
            else:
                up = F.interpolate(
                    top, size=merged[i - 1].shape[2:], **fpn.upsample_cfg
                )
            self._add(i - 1, laterals[i - 1], up)
            merged[i - 1] = laterals[i - 1] + up

    def _add(self, level: int, lateral: torch.Tensor, top: torch.Tensor):
        s = self.sums.setdefault(
            level,
            dict(lateral=0.0, top_down=0.0, lateral_var=0.0, top_down_var=0.0,
                 n=0),
        )  # fmt: skip
        n = lateral.shape[0]
        s['lateral'] += lateral.pow(2).mean((1, 2, 3)).sum().item()
        s['top_down'] += top.pow(2).mean((1, 2, 3)).sum().item()
        # spatial variance: what differs from place to place in the map
        s['lateral_var'] += _spatial_var(lateral)
        s['top_down_var'] += _spatial_var(top)
        s['n'] += n

    def results(self) -> List[dict]:
        """Per measured level, finest first: mean squared value of each
        term (``lateral``, ``top_down``), the top-down share of their sum
        (``top_down_share``), and the same for the spatial variance
        (``top_down_share_spatial``)."""
        out = []
        for level in sorted(self.sums):
            s = self.sums[level]
            n = max(s['n'], 1)
            lat, top = s['lateral'] / n, s['top_down'] / n
            lat_v, top_v = s['lateral_var'] / n, s['top_down_var'] / n
            out.append(
                dict(
                    level=level,
                    images=s['n'],
                    lateral=lat,
                    top_down=top,
                    top_down_share=top / (lat + top) if lat + top else 0.0,
                    top_down_share_spatial=(
                        top_v / (lat_v + top_v) if lat_v + top_v else 0.0
                    ),
                )
            )
        return out
