"""``torch.compile`` inference backend."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from .base_backend import INFERENCE_BACKENDS, BaseInferenceBackend


@INFERENCE_BACKENDS.register_module(name='compile')
class CompiledBackend(BaseInferenceBackend):
    """The network compiled with ``torch.compile``.

    On CUDA the default ``mode='reduce-overhead'`` runs the compiled
    kernels through CUDA graphs (inductor's graph trees): at batch 1 the
    per-kernel launch cost, which dominates a small batch on a large GPU,
    is paid once per graph. Each new batch size compiles again (static
    shapes). The first call of a batch size compiles (seconds to minutes).

    Args:
        model: The built model (eval mode).
        input_size: Side of the square network input.
        device: Where to run. Defaults to ``cpu``.
        compile_cfg: Options of ``torch.compile``. Defaults to
            ``mode='reduce-overhead'`` on CUDA, inductor's defaults on the
            CPU, and ``dynamic=False`` on both.
        **kwargs: ``tolerance``, ``check_batch_sizes`` (see
            :class:`BaseInferenceBackend`).
    """

    name = 'compile'

    def __init__(
        self,
        model: nn.Module,
        input_size: int,
        device: Union[str, torch.device] = 'cpu',
        compile_cfg: Optional[dict] = None,
        check_batch_sizes: Sequence[int] = (1,),
        **kwargs,
    ) -> None:
        super().__init__(model, input_size, device, **kwargs)
        cfg = dict(dynamic=False)
        if self.device.type == 'cuda':
            cfg['mode'] = 'reduce-overhead'
        cfg.update(compile_cfg or {})
        self.compile_cfg = cfg
        self.net = torch.compile(self.reference, **cfg)
        self.setup(check_batch_sizes)

    @torch.no_grad()
    def run(self, images: torch.Tensor) -> torch.Tensor:
        out = self.net(images.to(self.device, non_blocking=True))
        # CUDA-graph outputs are overwritten by the next replay: copy out
        return out.float().cpu()
