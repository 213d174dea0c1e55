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
    the full network. Pretrained weights load as before (the dropped
    layers' keys are reported as unexpected and ignored).

    Args:
        **kwargs: As mmpretrain's ``EfficientNetV2`` (``arch``,
            ``out_indices``, ``frozen_stages``, ``init_cfg`` ...).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        last = max(self.out_indices)
        del self.layers[last + 1 :]
        self.num_layers_dropped = len(self.arch) + 1 - len(self.layers)
