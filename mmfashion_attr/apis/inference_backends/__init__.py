"""Inference backends of :class:`~mmfashion_attr.apis.AttributeExtractor`
(``backend='compile' | 'cuda_graph' | 'onnxruntime'``; ``'eager'`` is the
model's own ``test_step``)."""

from .base_backend import (
    INFERENCE_BACKENDS,
    BackendMismatchError,
    BaseInferenceBackend,
    build_inference_backend,
    max_abs_difference,
)
from .compiled_backend import CompiledBackend
from .cuda_graph_backend import CUDAGraphBackend
from .onnxruntime_backend import (
    OnnxRuntimeBackend,
    create_ort_session,
    ort_providers,
    ort_session_options,
)

__all__ = [
    'INFERENCE_BACKENDS',
    'BackendMismatchError',
    'BaseInferenceBackend',
    'CUDAGraphBackend',
    'CompiledBackend',
    'OnnxRuntimeBackend',
    'build_inference_backend',
    'create_ort_session',
    'max_abs_difference',
    'ort_providers',
    'ort_session_options',
]
