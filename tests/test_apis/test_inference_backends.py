"""AttributeExtractor's inference backends: selection, the check against
eager PyTorch, and the CPU paths (ONNX Runtime, torch.compile).

The reference is the extractor's eager path (the model's ``test_step``);
a backend must give the same records and scores within 1e-3, and one that
does not is refused. The CUDA paths are in
``test_inference_backends_cuda.py``.
"""

import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmfashion_attr.apis import AttributeExtractor, init_attribute_model
from mmfashion_attr.apis.inference_backends import (
    BackendMismatchError,
    BaseInferenceBackend,
    build_inference_backend,
    ort_providers,
    ort_session_options,
)
from mmfashion_attr.apis.onnx_export import export_onnx
from tests.helpers.tiny_model import tiny_model_files


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return tiny_model_files(tmp_path_factory.mktemp('tiny'))


@pytest.fixture(scope='module')
def images(files):
    return sorted(glob.glob(osp.join(files[2], 'img', '*.png')))[:5]


@pytest.fixture(scope='module')
def eager(files):
    cfg, ckpt, _ = files
    return AttributeExtractor(cfg, ckpt, batch_size=2, return_scores=True)


def assert_same_results(got, ref, atol=1e-3):
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.keys() == r.keys()
        assert g['abstained'] == r['abstained']
        assert g['not_applicable'] == r['not_applicable']
        assert g['scores'].keys() == r['scores'].keys()
        for a, vals in r['scores'].items():
            np.testing.assert_allclose(
                list(g['scores'][a].values()), list(vals.values()), atol=atol
            )
        for a in r['attributes']:
            assert [v['value'] for v in g['attributes'][a]] == [
                v['value'] for v in r['attributes'][a]
            ]


def test_unknown_backend_and_device_checks(files):
    cfg, ckpt, _ = files
    with pytest.raises(ValueError, match="unknown inference backend 'trt'"):
        AttributeExtractor(cfg, ckpt, backend='trt')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='needs a CUDA device'):
            AttributeExtractor(cfg, ckpt, backend='cuda_graph')
        # auto: CUDA graphs on a GPU, eager on the CPU
        ex = AttributeExtractor(cfg, ckpt, backend='auto')
        assert ex.backend_name == 'eager' and ex.backend is None


def test_execution_providers():
    gpu_build = [
        'TensorrtExecutionProvider',
        'CUDAExecutionProvider',
        'CPUExecutionProvider',
    ]
    assert ort_providers('cuda:0', gpu_build) == gpu_build
    assert ort_providers('cpu', gpu_build) == ['CPUExecutionProvider']
    cuda_only = ['CUDAExecutionProvider', 'CPUExecutionProvider']
    assert ort_providers('cuda', cuda_only) == cuda_only
    # the CPU-only package on a GPU machine: the CPU
    assert ort_providers('cuda', ['CPUExecutionProvider']) == [
        'CPUExecutionProvider'
    ]


def test_session_options():
    import onnxruntime as ort

    opts = ort_session_options(threads=3)
    assert opts.intra_op_num_threads == 3
    assert opts.inter_op_num_threads == 1
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert (
        opts.graph_optimization_level
        == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    )
    assert opts.enable_cpu_mem_arena


def test_onnxruntime_backend_equals_eager(files, images, eager, tmp_path):
    cfg, ckpt, _ = files
    ex = AttributeExtractor(
        cfg, ckpt, batch_size=2, return_scores=True, backend='onnxruntime'
    )
    assert ex.backend_name == 'onnxruntime'
    assert ex.backend.providers == ['CPUExecutionProvider']
    # checked at construction for batch 1 and the extractor's batch size
    assert ex.backend.checked == {1, 2}
    # 5 images in batches of 2: the last batch (1) was checked already
    assert_same_results(ex(images), eager(images))
    # with a given file, and categories (the mask is applied as eager)
    path = str(tmp_path / 'm.onnx')
    export_onnx(ex.model, path, 64)
    ex2 = AttributeExtractor(
        cfg,
        ckpt,
        return_scores=True,
        backend='onnxruntime',
        backend_cfg=dict(onnx_file=path, threads=1),
    )
    cats = ['top', 'bottom', None, 'top', 'bottom']
    assert_same_results(
        ex2(images, categories=cats), eager(images, categories=cats)
    )


def test_compile_backend_equals_eager(files, images, eager):
    cfg, ckpt, _ = files
    # dynamo's capture with eager kernels (inductor takes minutes on CPU)
    ex = AttributeExtractor(
        cfg,
        ckpt,
        batch_size=2,
        return_scores=True,
        backend='compile',
        backend_cfg=dict(compile_cfg=dict(backend='eager')),
    )
    assert ex.backend.compile_cfg == dict(dynamic=False, backend='eager')
    assert_same_results(ex(images), eager(images))
    # DataSamples like eager's: the pipeline's metainfo and pred_score
    got = ex(images[:2], return_datasamples=True)
    ref = eager(images[:2], return_datasamples=True)
    for g, r in zip(got, ref):
        assert g.metainfo.keys() == r.metainfo.keys()
        torch.testing.assert_close(
            g.pred_score, r.pred_score, atol=1e-3, rtol=0
        )


def test_a_backend_that_differs_is_refused(files, tmp_path):
    cfg, ckpt, _ = files
    # an ONNX file of other weights
    other = init_attribute_model(Config.fromfile(cfg))
    with torch.no_grad():
        other.head.branches[0].fc_out.bias.add_(1.0)
    path = str(tmp_path / 'other.onnx')
    export_onnx(other, path, 64)
    with pytest.raises(BackendMismatchError, match='differ from eager'):
        AttributeExtractor(
            cfg, ckpt, backend='onnxruntime', backend_cfg=dict(onnx_file=path)
        )


class Drifting(BaseInferenceBackend):
    """Correct at batch 1, off by 0.01 at batch 3."""

    name = 'drifting'

    def __init__(self, model, input_size, device='cpu', **kwargs):
        super().__init__(model, input_size, device, **kwargs)
        self.setup((1,))

    def run(self, images):
        out = self.eager(images)
        return out + 0.01 if images.shape[0] == 3 else out


def test_every_new_batch_size_is_checked(files):
    cfg, ckpt, _ = files
    model = init_attribute_model(cfg, ckpt)
    backend = Drifting(model, 64)
    assert backend.checked == {1} and backend.last_difference == 0.0
    x = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    assert backend(x).shape == (2, model.head.schema.num_values)
    assert backend.checked == {1, 2}
    with pytest.raises(BackendMismatchError, match='at batch 3'):
        backend(torch.cat([x, x[:1]]))
    # a looser tolerance accepts it
    loose = Drifting(model, 64, tolerance=0.02)
    loose(torch.cat([x, x[:1]]))
    assert loose.checked == {1, 3}


def test_build_by_name(files):
    cfg, ckpt, _ = files
    model = init_attribute_model(cfg, ckpt)
    backend = build_inference_backend('onnxruntime', model, 64, threads=1)
    x = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    scores = backend(x)
    assert scores.dtype == torch.float32 and scores.device.type == 'cpu'
    assert backend.last_difference is not None
    assert backend.last_difference <= 1e-3
