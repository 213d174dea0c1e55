"""ONNX Runtime inference backend and session settings."""

from __future__ import annotations

import os
import os.path as osp
import tempfile
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from .base_backend import INFERENCE_BACKENDS, BaseInferenceBackend

# Execution providers tried on a CUDA device, fastest first; ONNX Runtime
# falls back along the list for nodes a provider cannot run.
GPU_PROVIDERS = (
    'TensorrtExecutionProvider',
    'CUDAExecutionProvider',
    'CPUExecutionProvider',
)


def ort_providers(
    device: Union[str, torch.device],
    available: Optional[Sequence[str]] = None,
) -> List[str]:
    """Execution providers for ``device``: on CUDA, TensorRT and CUDA when
    this onnxruntime build has them (then the CPU); on the CPU, the CPU.

    Args:
        device: Where to run.
        available: The providers of the installed onnxruntime. Defaults to
            ``onnxruntime.get_available_providers()``.
    """
    if available is None:
        import onnxruntime as ort

        available = ort.get_available_providers()
    if torch.device(device).type != 'cuda':
        return ['CPUExecutionProvider']
    return [p for p in GPU_PROVIDERS if p in available] or [
        'CPUExecutionProvider'
    ]


def ort_session_options(threads: int = 0, arena: bool = True):
    """``SessionOptions`` for low-latency serving at small batches.

    All graph optimisations (``ORT_ENABLE_ALL``: constant folding, node
    fusions such as Conv + Add + activation, layout changes), sequential
    execution (an EfficientNet is a chain: parallel branches gain nothing
    and spinning threads cost), one inter-op thread, ``threads`` intra-op
    threads (0: onnxruntime's default, one per physical core) and the CPU
    memory arena (buffers reused across runs).

    Args:
        threads: Intra-op threads (0: onnxruntime's choice).
        arena: Keep the CPU memory arena. Defaults to True.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = bool(arena)
    return opts


def create_ort_session(
    onnx_file: str,
    device: Union[str, torch.device] = 'cpu',
    threads: int = 0,
    providers: Optional[Sequence[str]] = None,
):
    """An ``InferenceSession`` with :func:`ort_session_options` and
    :func:`ort_providers`."""
    import onnxruntime as ort

    return ort.InferenceSession(
        onnx_file,
        ort_session_options(threads),
        providers=list(providers or ort_providers(device)),
    )


@INFERENCE_BACKENDS.register_module(name='onnxruntime')
class OnnxRuntimeBackend(BaseInferenceBackend):
    """The exported graph (``tools/deployment/export_onnx.py``) in ONNX
    Runtime.

    Without ``onnx_file`` the model is exported to a temporary file first.
    On a CUDA device the TensorRT and CUDA execution providers are used
    when the installed onnxruntime has them (:func:`ort_providers`; the
    CPU-only ``onnxruntime`` package has neither), on the CPU the session
    options of :func:`ort_session_options`. An int8 model
    (``export_onnx.py --int8``) differs from float32 PyTorch by more than
    the default tolerance: give it a ``tolerance`` of its own, after
    checking its accuracy (``tools/analysis_tools/onnx_accuracy.py``).

    Args:
        model: The built model (eval mode): the reference, and what is
            exported without ``onnx_file``.
        input_size: Side of the square network input.
        device: Where to run. Defaults to ``cpu``.
        onnx_file: An exported model of ``model``.
        threads: Intra-op threads (0: onnxruntime's choice).
        providers: Execution providers. Defaults to :func:`ort_providers`.
        **kwargs: ``tolerance``, ``check_batch_sizes`` (see
            :class:`BaseInferenceBackend`).
    """

    name = 'onnxruntime'

    def __init__(
        self,
        model: nn.Module,
        input_size: int,
        device: Union[str, torch.device] = 'cpu',
        onnx_file: Optional[str] = None,
        threads: int = 0,
        providers: Optional[Sequence[str]] = None,
        check_batch_sizes: Sequence[int] = (1,),
        **kwargs,
    ) -> None:
        super().__init__(model, input_size, device, **kwargs)
        if onnx_file is None:
            from ..onnx_export import export_onnx

            with tempfile.TemporaryDirectory() as tmp:
                path = osp.join(tmp, 'model.onnx')
                export_onnx(model, path, self.input_size)
                self.session = create_ort_session(
                    path, self.device, threads, providers
                )
        else:
            if not osp.isfile(onnx_file):
                raise FileNotFoundError(f'{onnx_file}: no such file')
            self.session = create_ort_session(
                os.fspath(onnx_file), self.device, threads, providers
            )
        self.providers = self.session.get_providers()
        self.setup(check_batch_sizes)

    def run(self, images: torch.Tensor) -> torch.Tensor:
        feed = {'image': images.detach().cpu().numpy().astype(np.float32)}
        outs = self.session.run(None, feed)
        return torch.from_numpy(np.concatenate(outs, axis=1))
