"""EfficientNetV2 that stops at its last tapped block (paper, Fig. 5)."""

from __future__ import annotations

from mmpretrain.models.backbones import EfficientNetV2
from mmpretrain.registry import MODELS


@MODELS.register_module()
class EfficientNetV2Taps(EfficientNetV2):
    """mmpretrain's ``EfficientNetV2`` without the layers after the last tap.

    Approaches 1-4 of Parekh & Shaik (VISAPP 2023) tap blocks 3, 5 and 7 of
    EfficientNetV2-M (``out_indices=(3, 5, 7)``). mmpretrain's backbone still
    builds and runs the 1280-channel head conv after block 7; its output is
    unused, so its parameters get no gradient, which makes DDP fail without
    ``find_unused_parameters`` ("Expected to have finished reduction") and
    costs compute. This subclass drops every layer after
    ``max(out_indices)``; with ``out_indices=(8,)`` (the baseline) it is
    the full network. Pretrained weights of the full network load (the dropped
    layers' keys are reported as unexpected and ignored).

    The activation defaults to ``nn.SiLU`` (in place) instead of mmcv's
    ``Swish``. Both compute ``x * sigmoid(x)``, so outputs and pretrained
    weights are unchanged (equal within float rounding, tested), but
    ``Swish`` runs it as two kernels and keeps the sigmoid for backward.
    The fused in-place kernel makes a training step faster
    (``tools/analysis_tools/benchmark.py --variants plain --plain-act
    Swish`` measures the stock activation for comparison).
    ``act_cfg=dict(type='Swish')`` restores mmpretrain's behaviour.

    Args:
        act_cfg: Activation of every conv block and of the
            squeeze-excitation's first layer. Defaults to
            ``dict(type='SiLU')``.
        **kwargs: As mmpretrain's ``EfficientNetV2`` (``arch``,
            ``out_indices``, ``frozen_stages``, ``init_cfg`` ...).
    """

    def __init__(self, act_cfg: dict | None = None, **kwargs) -> None:
        act_cfg = dict(type='SiLU') if act_cfg is None else act_cfg
        super().__init__(act_cfg=act_cfg, **kwargs)
        last = max(self.out_indices)
        del self.layers[last + 1 :]
        self.num_layers_dropped = len(self.arch) + 1 - len(self.layers)
