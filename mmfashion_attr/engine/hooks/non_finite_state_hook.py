"""Refuse non-finite weights and optimizer state: in a loaded checkpoint
and, every few iterations, in training."""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


def _named_tensors(obj, prefix: str) -> Iterable[Tuple[str, torch.Tensor]]:
    """Every floating-point tensor in nested dicts / lists, with its path."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() or obj.is_complex():
            yield prefix, obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _named_tensors(v, f'{prefix}.{k}' if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _named_tensors(v, f'{prefix}.{i}' if prefix else str(i))


def non_finite_entries(
    named: Iterable[Tuple[str, torch.Tensor]],
) -> List[Tuple[str, int, int]]:
    """``(name, non-finite count, size)`` of every tensor with NaN or
    infinite values."""
    out = []
    with torch.no_grad():
        for name, t in named:
            if t.numel() and not bool(torch.isfinite(t).all()):
                bad = int((~torch.isfinite(t)).sum())
                out.append((name, bad, t.numel()))
    return out


def describe_non_finite(
    entries: List[Tuple[str, int, int]], limit: int = 8
) -> str:
    """``'a.weight (3 of 100), ...'`` for a message."""
    parts = [f'{n} ({bad} of {size})' for n, bad, size in entries[:limit]]
    if len(entries) > limit:
        parts.append(f'... {len(entries) - limit} more tensors')
    return ', '.join(parts)


@HOOKS.register_module()
class NonFiniteStateHook(Hook):
    """Stop on NaN or infinite weights, buffers or optimizer state.

    :class:`NonFiniteLossHook` looks at the loss; state can turn
    non-finite without a non-finite loss first (a checkpoint corrupted
    before it was written, a learning rate or a gradient that overflows the
    Adam moments), and then the run trains on garbage. This hook checks

    * ``after_load_checkpoint`` (``--resume``, ``load_from``, ``test.py``):
      the checkpoint's weights and optimizer state, before they are
      applied: ``FloatingPointError`` naming the file and the tensors;
    * ``before_train``: the model and optimizer as training starts (after
      a resume: what was actually loaded);
    * every ``interval`` training iterations (after the optimizer step):
      model parameters, buffers and optimizer state. One flag is
      all-reduced, so every rank stops together. The check reads each
      tensor once (``torch.isfinite(...).all()``: one pass over the
      weights and the optimizer state, about three times the model's size
      with Adam), once every ``interval`` iterations.

    Args:
        interval: Check every this many training iterations. 0: only at
            load and at the start of training. Defaults to 500.
        check_optimizer: Include the optimizer state. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, check_optimizer: bool = True):
        if interval < 0:
            raise ValueError(f'interval must be >= 0, not {interval}')
        self.interval = int(interval)
        self.check_optimizer = check_optimizer
        self.num_checks = 0

    # --------------------------------------------------------------- load
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        named = list(_named_tensors(checkpoint.get('state_dict', {}), ''))
        if self.check_optimizer:
            named += _named_tensors(
                checkpoint.get('optimizer', {}), 'optimizer'
            )
        bad = non_finite_entries(named)
        if bad:
            source = runner._load_from or 'the loaded checkpoint'
            raise FloatingPointError(
                f'{source}: the checkpoint holds non-finite values in '
                f'{len(bad)} tensors: {describe_non_finite(bad)}. Resume '
                'from an earlier checkpoint (--resume PATH)'
            )

    # ----------------------------------------------------------- training
    def before_train(self, runner) -> None:
        self._check(runner, 'at the start of training')

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self._check(runner, f'after iteration {runner.iter + 1}')

    def state_entries(self, runner) -> List[Tuple[str, torch.Tensor]]:
        """The tensors checked during training."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        named = list(model.named_parameters()) + list(model.named_buffers())
        optim = getattr(runner, 'optim_wrapper', None)
        if self.check_optimizer and hasattr(optim, 'state_dict'):
            try:
                state = optim.state_dict()
            except Exception:  # not built yet
                state = {}
            named += _named_tensors(state, 'optimizer')
        return named

    def _check(self, runner, when: str) -> Optional[str]:
        self.num_checks += 1
        bad = non_finite_entries(self.state_entries(runner))
        flag = torch.tensor([1 if bad else 0], dtype=torch.int64)
        all_reduce(flag)  # every rank stops together
        if int(flag) == 0:
            return None
        where = f'epoch {runner.epoch + 1}, {when}'
        if bad:
            msg = (
                f'non-finite training state at {where}: {len(bad)} tensors '
                f'({describe_non_finite(bad)}). The last checkpoints may '
                'hold it too: resume from one saved before'
            )
        else:
            msg = f'non-finite training state on another rank at {where}'
        raise FloatingPointError(msg)
