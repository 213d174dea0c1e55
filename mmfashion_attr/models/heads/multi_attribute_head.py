"""Branch networks: one small classifier per attribute (paper, 4.1.5)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...structures import AttributeSchema


class _Branch(nn.Module):
    """One attribute's branch: hidden FC, activation, output FC."""

    def __init__(self, in_channels: int, hidden: int, num_values: int):
        super().__init__()
        self.fc_hidden = nn.Linear(in_channels, hidden)
        self.fc_out = nn.Linear(hidden, num_values)


@MODELS.register_module()
class MultiAttributeHead(BaseModule):
    """Multi-task, multi-label attribute head with a masked loss.

    One branch per attribute of the schema: a hidden fully connected layer
    and an output layer with one sigmoid unit per value (Parekh & Shaik,
    VISAPP 2023, sections 4.1.5 and 5.2). All branches run as two batched
    matrix products (their hidden layers concatenated, their output layers
    as one block-diagonal matrix), so there is no Python loop over
    attributes in the forward pass; the parameters stay per branch
    (``branches.<i>.fc_hidden`` / ``fc_out``).

    Loss masking (see :class:`MaskedMultiLabelLoss`): entries of missing
    attributes, unknown values and, with ``use_category_mask``, values not
    allowed for the sample's category are left out. Prediction multiplies
    scores of values not allowed for a known category by 0.

    Args:
        schema: Attribute schema (path, dict or :class:`AttributeSchema`).
        in_channels: Width of the fused feature vector.
        hidden_channels: Hidden width of every branch, or a dict
            ``{attribute: width}`` with an optional ``'default'`` entry.
            Defaults to 512.
        act_cfg: Activation after the hidden layer. Defaults to ReLU.
        dropout: Dropout before the hidden and the output layer.
            Defaults to 0.
        loss: Config of the masked loss.
        loss_weights: Optional ``{attribute: weight}``.
        use_category_mask: Apply the schema's allowed values per category
            in loss and prediction. Defaults to True.
        threshold: Decision threshold kept as metadata for predictions
            (paper: 0.3). Defaults to 0.3.
        prior_prob: If set, output biases start at ``logit(prior_prob)``
            so every value starts with that score (Lin et al., ICCV 2017,
            section 4.1), instead of 0.5: with many mostly-negative values
            the first steps are not spent pushing every score down.
            Defaults to None.
        init_cfg: Initialization config.
    """

    def __init__(
        self,
        schema: Union[str, dict, AttributeSchema],
        in_channels: int,
        hidden_channels: Union[int, Dict[str, int]] = 512,
        act_cfg: dict = dict(type='ReLU'),
        dropout: float = 0.0,
        loss: dict = dict(type='MaskedMultiLabelLoss'),
        loss_weights: Optional[Dict[str, float]] = None,
        use_category_mask: bool = True,
        threshold: float = 0.3,
        prior_prob: Optional[float] = None,
        init_cfg: Optional[dict] = dict(
            type='Xavier', layer='Linear', distribution='uniform'
        ),
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.schema = AttributeSchema.build(schema)
        self.in_channels = in_channels
        self.threshold = threshold
        if prior_prob is not None and not 0 < prior_prob < 1:
            raise ValueError(f'prior_prob must be in (0, 1), not {prior_prob}')
        self.prior_prob = prior_prob
        self.use_category_mask = use_category_mask
        names = self.schema.names
        hidden = self._hidden_sizes(hidden_channels, names)
        self.hidden_sizes = hidden
        self.branches = nn.ModuleList(
            _Branch(in_channels, h, a.num_values)
            for h, a in zip(hidden, self.schema.attributes)
        )
        self.act = build_activation_layer(act_cfg)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.loss_module = MODELS.build(loss)
        weights = loss_weights or {}
        unknown = set(weights) - set(names)
        if unknown:
            raise KeyError(f'loss_weights for unknown attributes {unknown}')
        self.register_buffer(
            'loss_weights',
            torch.tensor([float(weights.get(n, 1.0)) for n in names]),
            persistent=False,
        )
        self.register_buffer(
            'attribute_ids',
            torch.from_numpy(self.schema.attribute_ids()).long(),
            persistent=False,
        )
        self.register_buffer(
            'allowed',
            torch.from_numpy(self.schema.allowed_matrix()),
            persistent=False,
        )
        # Where each branch's outputs sit in the padded block matrix.
        self._hidden_offsets = [0]
        for h in hidden:
            self._hidden_offsets.append(self._hidden_offsets[-1] + h)

    @staticmethod
    def _hidden_sizes(hidden_channels, names: List[str]) -> List[int]:
        if isinstance(hidden_channels, int):
            return [hidden_channels] * len(names)
        hidden_channels = dict(hidden_channels)
        default = hidden_channels.pop('default', 512)
        unknown = set(hidden_channels) - set(names)
        if unknown:
            raise KeyError(f'hidden_channels for unknown attributes {unknown}')
        return [int(hidden_channels.get(n, default)) for n in names]

    def init_weights(self) -> None:
        super().init_weights()
        if self.prior_prob is not None:
            bias = math.log(self.prior_prob / (1 - self.prior_prob))
            for b in self.branches:
                nn.init.constant_(b.fc_out.bias, bias)

    # ---------------------------------------------------------------- forward
    def fused_weights(self) -> Tuple[torch.Tensor, ...]:
        """Concatenated hidden layer and block-diagonal output layer.

        Built from the branch parameters on every forward pass, never
        cached: a cache keyed on the parameters' storage and version
        counters serves stale weights after in-place updates through
        ``.data`` (mmengine's ``ExponentialMovingAverage``, hand edits),
        and building costs little next to the backbone (a few small
        concatenations; ``.dev_scripts/measure_head_fusion.py`` measures
        the share on a given config). In training autograd needs the
        concatenation anyway.
        """
        w1 = torch.cat([b.fc_hidden.weight for b in self.branches])
        b1 = torch.cat([b.fc_hidden.bias for b in self.branches])
        total = self._hidden_offsets[-1]
        w2 = torch.cat(
            [
                F.pad(b.fc_out.weight, (start, total - start - h))
                for b, start, h in zip(
                    self.branches, self._hidden_offsets, self.hidden_sizes
                )
            ]
        )
        b2 = torch.cat([b.fc_out.bias for b in self.branches])
        return w1, b1, w2, b2

    def _hidden(self, feats, w1: torch.Tensor, b1: torch.Tensor):
        x = feats if isinstance(feats, torch.Tensor) else feats[-1]
        return self.act(F.linear(self.dropout(x), w1, b1))

    def pre_logits(
        self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> torch.Tensor:
        """The branches' hidden activations before their output layers.

        What ``ImageClassifier.extract_feat(inputs, stage='pre_logits')``
        returns (mmpretrain's head interface, as ``LinearClsHead``).

        Args:
            feats: The fused feature ``(N, in_channels)`` or a tuple whose
                last element is it (the neck's output).

        Returns:
            ``(N, sum(hidden_sizes))``: every branch's activated hidden
            layer, concatenated in schema order.
        """
        w1, b1, _, _ = self.fused_weights()
        return self._hidden(feats, w1, b1)

    def forward(
        self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> torch.Tensor:
        """Logits ``(N, num_values)`` of all attributes' values.

        Args:
            feats: The fused feature ``(N, in_channels)`` or a tuple whose
                last element is it (the neck's output).
        """
        w1, b1, w2, b2 = self.fused_weights()
        h = self._hidden(feats, w1, b1)
        return F.linear(self.dropout(h), w2, b2)

    def split_logits(self, logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{attribute: (N, num_values_a)}`` views of flat logits/scores."""
        return {
            a.name: logits[:, self.schema.slice(i)]
            for i, a in enumerate(self.schema.attributes)
        }

    # ----------------------------------------------------------------- labels
    def _category_idx(
        self, data_samples: Sequence[DataSample], device
    ) -> torch.Tensor:
        if data_samples and all('category_tensor' in s for s in data_samples):
            # packed by PackAttrInputs: no Python int per sample, so a
            # compiled step does not specialise on the batch's categories
            idx = torch.stack([s.category_tensor for s in data_samples])
            return idx.to(device=device, dtype=torch.long, non_blocking=True)
        idx = [int(s.metainfo.get('category_idx', -1)) for s in data_samples]
        return torch.tensor(idx, dtype=torch.long, device=device)

    def allowed_mask(self, category_idx: torch.Tensor) -> torch.Tensor:
        """``(N, V)`` bool: values allowed for each sample's category."""
        return self.allowed[category_idx]

    def targets(
        self, data_samples: Sequence[DataSample], device
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Stacked ``(target, mask)``; samples without labels are masked."""
        n, v = len(data_samples), self.schema.num_values
        if all('gt_attr' in s for s in data_samples):
            target = torch.stack(
                [torch.as_tensor(s.gt_attr) for s in data_samples]
            )
            mask = torch.stack(
                [torch.as_tensor(s.gt_attr_mask) for s in data_samples]
            ).bool()
        else:  # some samples carry no labels at all: fully masked
            target = torch.zeros(n, v, dtype=torch.uint8)
            mask = torch.zeros(n, v, dtype=torch.bool)
            for i, s in enumerate(data_samples):
                if 'gt_attr' in s:
                    target[i] = torch.as_tensor(s.gt_attr)
                    mask[i] = torch.as_tensor(s.gt_attr_mask).bool()
        mask = mask.to(device)
        if self.use_category_mask:
            mask &= self.allowed_mask(self._category_idx(data_samples, device))
        return target.to(device, non_blocking=True), mask

    # ------------------------------------------------------------------- loss
    def loss(
        self, feats, data_samples: Sequence[DataSample], **kwargs
    ) -> Dict[str, torch.Tensor]:
        """Per-attribute losses ``loss_<attribute>`` (summed by mmengine)."""
        logits = self(feats)
        target, mask = self.targets(data_samples, logits.device)
        per_attr = self.loss_module(
            logits,
            target,
            mask,
            self.attribute_ids,
            self.schema.num_attributes,
        )
        per_attr = per_attr * self.loss_weights
        return {
            f'loss_{name}': per_attr[i]
            for i, name in enumerate(self.schema.names)
        }

    # ---------------------------------------------------------------- predict
    def predict_scores(
        self, feats, category_idx: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        """Sigmoid scores ``(N, V)``; disallowed values of a known category
        are set to 0."""
        scores = torch.sigmoid(self(feats).float())
        if self.use_category_mask and category_idx is not None:
            scores = scores * self.allowed_mask(category_idx)
        return scores

    def predict(
        self,
        feats,
        data_samples: Optional[Sequence[DataSample]] = None,
        **kwargs,
    ) -> List[DataSample]:
        """Attach ``pred_score`` (flat, all attributes) to each sample.

        Works for any mix of labelled, partly labelled and unlabelled
        samples (labels are not read).
        """
        x = feats if isinstance(feats, torch.Tensor) else feats[-1]
        n = x.shape[0]
        if data_samples is None:
            data_samples = [None] * n
        data_samples = [DataSample() if s is None else s for s in data_samples]
        cat = self._category_idx(data_samples, x.device)
        scores = self.predict_scores(x, cat)
        for s, score in zip(data_samples, scores):
            s.set_pred_score(score)
        return data_samples
