"""Masked multi-label loss over all attributes at once.

Parekh et al. (CVPR-W 2021) and Parekh & Shaik (VISAPP 2023, section 5.2)
"ignore the loss of the missing attributes". Here every (sample, value)
entry has a mask: 0 where the attribute is missing for the sample, where a
single value is unknown, or where the value is not allowed for the sample's
category. Masked entries contribute zero loss and zero gradient, but the
computation always runs through every branch, so all parameters take part
in every step and DDP needs no ``find_unused_parameters``.

The element loss is the asymmetric loss of Ridnik et al. (ICCV 2021),
which contains the plain binary cross-entropy (``gamma_pos = gamma_neg =
clip = 0``) and the focal loss of Lin et al. (ICCV 2017) (``gamma_pos =
gamma_neg = gamma``, optional ``alpha``) as special cases; positive
weights per value counter class imbalance.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class MaskedMultiLabelLoss(nn.Module):
    """Sigmoid multi-label loss with a per-entry mask, reduced per attribute.

    For entry ``(n, v)`` with logit ``x``, target ``y``, ``p = sigmoid(x)``::

        pos = -alpha     * w_v * (1 - p)^gamma_pos * log(p)
        neg = -(1-alpha) * p_m^gamma_neg * log(1 - p_m)
        p_m = max(p - clip, 0)
        l   = y * pos + (1 - y) * neg

    (``alpha`` = 0.5 weights both sides equally and is replaced by 1 when
    ``alpha`` is None). The loss of attribute ``a`` is the mean of ``l`` over
    its labelled entries (``reduction='mean'``) or their sum divided by the
    number of samples labelled for ``a`` (``reduction='sample'``); an
    attribute with no labelled entry in the batch has loss 0.

    Computed in float32 even under autocast.

    Args:
        gamma_pos: Focusing exponent of positives. Defaults to 0.
        gamma_neg: Focusing exponent of negatives. Defaults to 0.
        clip: Probability margin shifted off negatives (ASL). Defaults to 0.
        alpha: Focal balance weight of positives, or None. Defaults to None.
        pos_weight: Weight of positive entries: a float, or one value per
            flat attribute value. Defaults to None (1).
        reduction: ``mean`` or ``sample``. Defaults to ``mean``.
        loss_weight: Overall scale. Defaults to 1.
    """

    def __init__(
        self,
        gamma_pos: float = 0.0,
        gamma_neg: float = 0.0,
        clip: float = 0.0,
        alpha: Optional[float] = None,
        pos_weight: Union[None, float, Sequence[float]] = None,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if reduction not in ('mean', 'sample'):
            raise ValueError(
                f"reduction must be 'mean' or 'sample', not {reduction!r}"
            )
        if not 0 <= clip < 1:
            raise ValueError('clip must be in [0, 1)')
        self.gamma_pos = float(gamma_pos)
        self.gamma_neg = float(gamma_neg)
        self.clip = float(clip)
        self.alpha = alpha
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        if pos_weight is None:
            pos_weight = 1.0
        self.register_buffer(
            'pos_weight',
            torch.as_tensor(pos_weight, dtype=torch.float32),
            persistent=False,
        )

    def elementwise(
        self, logits: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """Unmasked loss of each entry, float32."""
        x = logits.float()
        y = target.float()
        log_p = F.logsigmoid(x)
        if self.clip > 0:
            p_m = (torch.sigmoid(x) - self.clip).clamp(min=0)
            log_1mp = torch.log1p(-p_m)
        else:
            p_m = None
            log_1mp = F.logsigmoid(-x)
        pos = -log_p * self.pos_weight.to(x.device)
        neg = -log_1mp
        if self.gamma_pos > 0:
            pos = pos * (1 - torch.sigmoid(x)).pow(self.gamma_pos)
        if self.gamma_neg > 0:
            p_neg = p_m if p_m is not None else torch.sigmoid(x)
            neg = neg * p_neg.pow(self.gamma_neg)
        if self.alpha is not None:
            pos = pos * self.alpha
            neg = neg * (1 - self.alpha)
        return y * pos + (1 - y) * neg

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        attribute_ids: torch.Tensor,
        num_attributes: int,
    ) -> torch.Tensor:
        """Per-attribute losses.

        Args:
            logits: ``(N, V)`` logits of all flat values.
            target: ``(N, V)`` 0/1 targets.
            mask: ``(N, V)`` 1 where the entry is labelled.
            attribute_ids: ``(V,)`` attribute index of each flat value.
            num_attributes: Number of attributes ``A``.

        Returns:
            Tensor: ``(A,)`` loss of each attribute (float32).
        """
        with torch.autocast(device_type=logits.device.type, enabled=False):
            mask = mask.bool()
            # where() rather than a product: a masked entry gets exactly zero
            # loss and zero gradient, even if its logit is not finite.
            x = torch.where(mask, logits.float(), 0.0)
            elem = torch.where(mask, self.elementwise(x, target), 0.0)
            per_value = elem.sum(dim=0)
            attr_sum = per_value.new_zeros(num_attributes).index_add(
                0, attribute_ids, per_value
            )
            if self.reduction == 'mean':
                count = mask.sum(dim=0).float()
                denom = count.new_zeros(num_attributes).index_add(
                    0, attribute_ids, count
                )
            else:
                labelled = (
                    mask.float()
                    .new_zeros(mask.shape[0], num_attributes)
                    .index_add(1, attribute_ids, mask.float())
                    > 0
                )
                denom = labelled.sum(dim=0).float()
            return self.loss_weight * attr_sum / denom.clamp(min=1)
