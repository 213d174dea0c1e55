"""Stop on a non-finite loss naming the batch's samples, or skip the step."""

from __future__ import annotations

import functools
from typing import List, Optional

import torch
from mmengine.dist import all_reduce, get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

MODES = ('raise', 'skip')


def describe_batch(data_batch, limit: int = 32) -> List[str]:
    """``img_path`` (or ``sample_idx``) of each sample of a collated batch."""
    samples = []
    if isinstance(data_batch, dict):
        samples = data_batch.get('data_samples') or []
    names = []
    for s in samples[:limit]:
        meta = s.metainfo if hasattr(s, 'metainfo') else dict(s)
        name = meta.get('img_path')
        if name is None:
            name = f'sample_idx={meta.get("sample_idx", "?")}'
        names.append(str(name))
    if len(samples) > limit:
        names.append(f'... ({len(samples) - limit} more)')
    return names


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop on a NaN or infinite training loss naming the batch's samples,
    or skip such steps.

    * ``on_nonfinite='raise'`` (default): after every training step the
      logged loss values (``outputs`` of ``train_step``, which mmengine's
      ``RuntimeInfoHook`` reads back from the device every iteration
      anyway) are checked; when any is NaN or infinite on any rank,
      ``FloatingPointError`` names the epoch, iteration, the non-finite
      loss terms and the samples of the batch (``img_path``) on the rank
      where it happened. Nothing runs inside the training step: no host
      synchronisation and no graph break under ``torch.compile``
      (``compile=True``). The failing step's update has been applied when
      the error is raised; no checkpoint is written after it.
    * ``'skip'``: the loss is checked before the backward pass (the
      optimizer wrapper's ``update_params``, whatever its type, including
      ``AmpOptimWrapper`` from ``--amp``, is wrapped for the duration of
      training). A non-finite loss means no backward pass and no optimizer
      step for this batch, and the buffers the forward pass changed
      (BatchNorm running statistics) are restored: weights, buffers,
      optimizer state and gradients stay as they were before the batch. A
      warning names the samples; skips are counted (:attr:`num_skipped`)
      and logged per epoch, and the step's non-finite loss values are left
      out of the logged running means. More than ``max_consecutive_skips``
      skipped steps in a row mean the model diverged:
      ``FloatingPointError``. Deciding before the update costs one host
      synchronisation per step (and, compiled, one graph break between the
      forward and the backward pass, where the backward call breaks the
      graph anyway). With gradient accumulation a skipped micro-batch is
      left out of its accumulation window.

    In both modes the decision is taken on every rank together (one
    ``all_reduce`` of a flag per step, so that all ranks raise, or all skip
    and DDP never waits for a backward pass that one rank left out).

    Args:
        on_nonfinite: ``'raise'`` or ``'skip'``.
        max_consecutive_skips: Give up after this many skipped steps in a
            row (``'skip'`` mode). Defaults to 20.
        max_names: How many sample names a message lists.
    """

    priority = 'VERY_HIGH'

    def __init__(
        self,
        on_nonfinite: str = 'raise',
        max_consecutive_skips: int = 20,
        max_names: int = 32,
    ) -> None:
        if on_nonfinite not in MODES:
            raise ValueError(
                f'on_nonfinite must be one of {MODES}, not {on_nonfinite!r}'
            )
        self.on_nonfinite = on_nonfinite
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.max_names = int(max_names)
        self.num_skipped = 0
        self.skipped: List[dict] = []  # epoch, iter, samples per skip
        self._epoch_skipped = 0
        self._consecutive = 0
        self._batch: List[str] = []
        self._losses: Optional[dict] = None
        self._log_vars: Optional[dict] = None
        self._runner = None
        self._model = None
        self._buffers: Optional[list] = None
        self._restore: list = []

    # ------------------------------------------------------------ install
    def before_train(self, runner) -> None:
        self._runner = runner
        if self.on_nonfinite == 'raise':
            return  # decided in after_train_iter, outside the step
        ow = runner.optim_wrapper
        if not hasattr(ow, 'update_params'):
            raise TypeError(
                'NonFiniteLossHook needs an optim wrapper with '
                f'update_params, got {type(ow).__name__}'
            )
        self._patch(ow, 'update_params', self._wrap_update(ow.update_params))
        model = (
            runner.model.module
            if is_model_wrapper(runner.model)
            else runner.model
        )
        self._model = model
        if hasattr(model, 'parse_losses'):
            self._patch(
                model, 'parse_losses', self._wrap_parse(model.parse_losses)
            )

    def after_train(self, runner) -> None:
        for obj, name, had, old in reversed(self._restore):
            if had:
                setattr(obj, name, old)
            else:
                delattr(obj, name)
        self._restore.clear()
        self._model = self._buffers = None

    def _patch(self, obj, name: str, new) -> None:
        had = name in vars(obj)
        self._restore.append((obj, name, had, vars(obj).get(name)))
        object.__setattr__(obj, name, new)

    def _wrap_parse(self, parse_losses):

        @functools.wraps(parse_losses)
        def parse(losses):
            self._losses = losses
            loss, log_vars = parse_losses(losses)
            self._log_vars = log_vars
            return loss, log_vars

        return parse

    # ------------------------------------------------------------ decide
    @staticmethod
    def _agree(local_ok: bool) -> int:
        """How many ranks saw a non-finite loss (0: go on)."""
        flag = torch.tensor([0 if local_ok else 1], dtype=torch.int64)
        all_reduce(flag)  # no-op without torch.distributed
        return int(flag)

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        """``'raise'`` mode: check the step's logged losses."""
        if self.on_nonfinite != 'raise':
            return
        values = [
            v.detach().float().reshape(-1)
            for v in (outputs or {}).values()
            if isinstance(v, torch.Tensor)
        ]
        local_ok = (
            bool(torch.isfinite(torch.cat(values)).all()) if values else True
        )
        bad_ranks = self._agree(local_ok)
        if bad_ranks:
            raise FloatingPointError(
                self._message(outputs or {}, local_ok, bad_ranks)
            )

    def _wrap_update(self, update_params):

        @functools.wraps(update_params)
        def update(loss: torch.Tensor, *args, **kwargs):
            local_ok = bool(torch.isfinite(loss.detach()).all())
            bad_ranks = self._agree(local_ok)
            if not bad_ranks:
                self._consecutive = 0
                return update_params(loss, *args, **kwargs)
            losses = dict(self._losses or {})
            losses.setdefault('loss', loss)
            msg = self._message(losses, local_ok, bad_ranks)
            self.num_skipped += 1
            self._epoch_skipped += 1
            self._consecutive += 1
            self.skipped.append(
                dict(
                    epoch=self._runner.epoch if self._runner else None,
                    iter=self._runner.iter if self._runner else None,
                    samples=list(self._batch) if not local_ok else [],
                )
            )
            if self._consecutive > self.max_consecutive_skips:
                raise FloatingPointError(
                    f'{self._consecutive} consecutive non-finite losses '
                    f'(max_consecutive_skips={self.max_consecutive_skips}): '
                    f'the model diverged. Last: {msg}'
                )
            self._restore_buffers()
            self._drop_nonfinite_log_vars()
            if self._runner is not None:
                self._runner.logger.warning(f'Skipped step: {msg}')
            return None

        return update

    # ------------------------------------------------------------- naming
    def before_train_iter(
        self, runner, batch_idx: int, data_batch=None
    ) -> None:
        self._batch = describe_batch(data_batch, self.max_names)
        self._losses = self._log_vars = None
        if self.on_nonfinite == 'skip' and self._model is not None:
            # BatchNorm statistics change in the forward pass, before the
            # loss is known
            self._buffers = [b.detach().clone() for b in self._model.buffers()]

    def _drop_nonfinite_log_vars(self) -> None:
        """Keep a skipped step's NaN out of the logged running means."""
        log_vars = self._log_vars
        if not isinstance(log_vars, dict):
            return
        for k in [
            k
            for k, v in log_vars.items()
            if isinstance(v, torch.Tensor)
            and not torch.isfinite(v.detach()).all()
        ]:
            del log_vars[k]

    def _restore_buffers(self) -> None:
        if self._model is None or self._buffers is None:
            return
        with torch.no_grad():
            for b, saved in zip(self._model.buffers(), self._buffers):
                b.copy_(saved)

    def _message(self, losses: dict, local_ok: bool, num_ranks: int) -> str:
        """What went wrong where: ``losses`` holds the total ``loss`` and
        the terms (``loss_<attribute>``)."""
        r = self._runner
        where = (
            f'epoch {r.epoch + 1}, iteration {r.iter + 1}'
            if r is not None
            else 'training'
        )
        if local_ok:
            return (
                f'non-finite loss at {where} on {num_ranks} rank(s); '
                f'the loss of this rank ({get_rank()}) was finite'
            )
        terms, total = [], '?'
        for k, v in losses.items():
            if not isinstance(v, torch.Tensor):
                continue
            value = f'{v.detach().float().mean().item():g}'
            if k == 'loss':
                total = value
            elif not torch.isfinite(v.detach()).all():
                terms.append(f'{k}={value}')
        hint = (
            "set NonFiniteLossHook(on_nonfinite='skip') to skip such steps"
            if self.on_nonfinite == 'raise'
            else 'step skipped'
        )
        return (
            f'non-finite loss {total} at {where} (rank {get_rank()}); '
            f'non-finite terms: {", ".join(terms) or "?"}; samples of the '
            f'batch: {", ".join(self._batch) or "?"}; {hint}'
        )

    def before_train_epoch(self, runner) -> None:
        self._epoch_skipped = 0

    def after_train_epoch(self, runner) -> None:
        if self._epoch_skipped:
            runner.logger.warning(
                f'Epoch {runner.epoch + 1}: skipped {self._epoch_skipped} '
                f'steps with a non-finite loss ({self.num_skipped} so far)'
            )
