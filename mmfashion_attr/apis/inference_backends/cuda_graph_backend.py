"""CUDA graphs captured by hand."""

from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn

from .base_backend import INFERENCE_BACKENDS, BaseInferenceBackend


@INFERENCE_BACKENDS.register_module(name='cuda_graph')
class CUDAGraphBackend(BaseInferenceBackend):
    """Eager PyTorch kernels replayed from a captured CUDA graph.

    For each batch size the network (normalisation, backbone, neck, head,
    sigmoid) is run a few times on a side stream (cuDNN picks its
    algorithms, the head caches its fused weights), then captured once
    with ``torch.cuda.graph`` into static input and output buffers; a call
    copies the images into the input buffer and replays the graph: one
    launch instead of hundreds, no compilation. Batch sizes are captured
    when first seen, up to ``max_graphs`` (then eager). The weights are
    read at capture: build a new backend after changing them.

    Args:
        model: The built model (eval mode), on the CUDA device.
        input_size: Side of the square network input.
        device: A CUDA device.
        warmup: Eager runs before each capture. Defaults to 3.
        max_graphs: Batch sizes to keep graphs for. Defaults to 8.
        **kwargs: ``tolerance``, ``check_batch_sizes`` (see
            :class:`BaseInferenceBackend`).
    """

    name = 'cuda_graph'

    def __init__(
        self,
        model: nn.Module,
        input_size: int,
        device: Union[str, torch.device] = 'cuda',
        warmup: int = 3,
        max_graphs: int = 8,
        check_batch_sizes: Sequence[int] = (1,),
        **kwargs,
    ) -> None:
        device = torch.device(device)
        if device.type != 'cuda' or not torch.cuda.is_available():
            raise ValueError(
                f"the 'cuda_graph' backend needs a CUDA device, not {device}"
            )
        super().__init__(model, input_size, device, **kwargs)
        self.reference.to(self.device)
        self.warmup = int(warmup)
        self.max_graphs = int(max_graphs)
        self.graphs: Dict[
            int, Tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]
        ] = {}
        self.setup(check_batch_sizes)

    @torch.no_grad()
    def capture(self, n: int) -> None:
        """Capture the graph of batch size ``n``."""
        s = self.input_size
        static_in = torch.zeros(n, 3, s, s, device=self.device)
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.reference(static_in)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.reference(static_in)
        self.graphs[n] = (graph, static_in, static_out)

    @torch.no_grad()
    def run(self, images: torch.Tensor) -> torch.Tensor:
        n = int(images.shape[0])
        if n not in self.graphs:
            if len(self.graphs) >= self.max_graphs:
                return self.reference(images.to(self.device)).float().cpu()
            self.capture(n)
        graph, static_in, static_out = self.graphs[n]
        static_in.copy_(images, non_blocking=True)
        graph.replay()
        return static_out.float().cpu()
