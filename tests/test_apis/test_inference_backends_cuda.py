"""CUDA-only: the CUDA-graph and compiled backends equal eager PyTorch
(skipped without a GPU; run by ``.dev_scripts/gpu_check.sh``)."""

import glob
import os.path as osp

import numpy as np
import pytest
import torch

from mmfashion_attr.apis import AttributeExtractor
from tests.helpers.tiny_model import tiny_model_files

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs CUDA'
)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return tiny_model_files(tmp_path_factory.mktemp('tiny'))


@pytest.mark.parametrize('backend', ['cuda_graph', 'compile', 'auto'])
def test_cuda_backend_equals_eager(files, backend):
    cfg, ckpt, root = files
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:5]
    ref = AttributeExtractor(
        cfg, ckpt, device='cuda', batch_size=2, return_scores=True
    )(paths)
    ex = AttributeExtractor(
        cfg,
        ckpt,
        device='cuda',
        batch_size=2,
        return_scores=True,
        backend=backend,
    )
    assert ex.backend_name == ('cuda_graph' if backend == 'auto' else backend)
    assert ex.backend.checked == {1, 2}
    got = ex(paths)
    for g, r in zip(got, ref):
        assert g['abstained'] == r['abstained']
        for a, vals in r['scores'].items():
            np.testing.assert_allclose(
                list(g['scores'][a].values()), list(vals.values()), atol=1e-3
            )
    if backend == 'cuda_graph':
        # one graph per batch size seen (2, and 1 for the last image)
        assert sorted(ex.backend.graphs) == [1, 2]
