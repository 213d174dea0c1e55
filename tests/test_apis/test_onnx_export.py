"""ONNX export: onnxruntime matches PyTorch, named outputs, dynamic batch."""

import copy
import glob
import json
import os.path as osp

import numpy as np
import onnxruntime as ort
import pytest
import torch
from mmengine.config import Config

from mmfashion_attr.apis import AttributeExtractor, init_attribute_model
from mmfashion_attr.apis.onnx_export import (
    export_onnx,
    input_size,
    onnx_metadata,
    output_names,
)
from mmfashion_attr.structures import AttributeSchema
from tests.helpers.schemas import TINY_SCHEMA
from tests.helpers.tiny_model import tiny_model_files
from tests.helpers.tinydata import REPO
from tools.deployment import export_onnx as export_onnx_tool


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('onnx')
    cfg_path, ckpt, root = tiny_model_files(tmp)
    cfg = Config.fromfile(cfg_path)
    model = init_attribute_model(cfg, ckpt)
    out = str(tmp / 'model.onnx')
    mapping = export_onnx(
        model, out, input_size(cfg), thresholds=dict(default=0.4), batch_size=2
    )
    return model, out, mapping, (cfg_path, ckpt, root)


def test_onnxruntime_matches_pytorch_with_dynamic_batch(exported):
    model, path, mapping, _ = exported
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    assert [o.name for o in sess.get_outputs()] == [
        'category',
        'colour',
        'closure',
    ]
    assert sess.get_inputs()[0].shape[0] == 'batch'
    torch.manual_seed(1)
    for n in (1, 3):  # exported with a batch of 2
        img = torch.rand(n, 3, 64, 64) * 255
        outs = sess.run(None, {'image': img.numpy()})
        # reference: the model's own preprocessor and head, not the wrapper
        data = model.data_preprocessor(dict(inputs=img.clone()), False)
        with torch.no_grad():
            ref = model.head.predict_scores(model.extract_feat(data['inputs']))
        for i, name in enumerate(model.head.schema.names):
            assert outs[i].shape == (
                n,
                len(TINY_SCHEMA['attributes'][i]['values']),
            )
            np.testing.assert_allclose(
                outs[i],
                ref[:, model.head.schema.slice(i)].numpy(),
                atol=1e-4,
                rtol=0,
            )


def test_metadata_describes_outputs(exported):
    _, path, mapping, _ = exported
    meta = onnx_metadata(path)
    schema = AttributeSchema.from_dict(json.loads(meta['schema']))
    assert schema.names == ['category', 'colour', 'closure']
    assert json.loads(meta['outputs']) == mapping
    assert json.loads(meta['thresholds'])['default'] == 0.4
    assert meta['input_size'] == '64'


def test_onnx_on_pipeline_images_equals_extractor(exported):
    """The serving path: test-pipeline pixels in, the extractor's scores
    out."""
    model, path, _, (cfg_path, ckpt, root) = exported
    ex = AttributeExtractor(cfg_path, ckpt, return_scores=True)
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:3]
    batch = np.stack([ex.prepare(p)['inputs'].numpy() for p in paths])
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    outs = dict(
        zip(
            [o.name for o in sess.get_outputs()],
            sess.run(None, {'image': batch.astype(np.float32)}),
        )
    )
    for k, r in enumerate(ex(paths)):
        for a, vals in r['scores'].items():
            np.testing.assert_allclose(
                outs[a][k], list(vals.values()), atol=1e-4
            )


def test_output_names_are_sanitised_and_unique():
    d = copy.deepcopy(TINY_SCHEMA)
    d['attributes'][1]['name'] = 'neck type'
    d['attributes'][2]['name'] = 'neck-type'
    d['allowed'] = {}
    names = output_names(AttributeSchema.from_dict(d))
    assert names == ['category', 'neck_type', 'neck_type_2']


def test_cli_with_verify(exported, tmp_path, capsys):
    _, _, _, (cfg_path, ckpt, _) = exported
    out = tmp_path / 'cli.onnx'
    export_onnx_tool.main([cfg_path, ckpt, '--out', str(out), '--verify'])
    text = capsys.readouterr().out
    assert "colour                   -> output 'colour'" in text
    diff = float(text.split('pytorch| = ')[1].split()[0])
    assert diff <= 1e-4 and osp.getsize(out) > 10000


def serving_snippet():
    """The onnxruntime snippet of the docs: the Python block after the
    ``<!-- serving-snippet -->`` marker, in whichever page under docs/
    holds it."""
    marker = '<!-- serving-snippet -->'
    pages = []
    docs = osp.join(REPO, 'docs', '**', '*.md')
    for page in glob.glob(docs, recursive=True):
        with open(page, encoding='utf-8') as f:
            text = f.read()
        if marker in text:
            pages.append((page, text))
    assert len(pages) == 1, f'{marker} in {[p for p, _ in pages]}'
    return pages[0][1].split(marker)[1]


def test_docs_serving_snippet_matches_extractor(exported):
    """The docs' onnxruntime serving snippet, run as written."""
    _, path, _, (cfg_path, ckpt, root) = exported
    code = serving_snippet()
    code = code.split('```python')[1].split('```')[0]
    code = code.replace("print(extract('model.onnx', ['a.jpg', 'b.jpg']))", '')
    ns = {}
    exec(compile(code, 'inference.md', 'exec'), ns)
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:3]
    got = ns['extract'](path, paths)
    want = AttributeExtractor(cfg_path, ckpt, thresholds=0.4)(paths)
    for g, w in zip(got, want):
        assert g['abstained'] == w['abstained']
        for a, vals in w['attributes'].items():
            assert [d['value'] for d in g['attributes'][a]] == [
                d['value'] for d in vals
            ]
            np.testing.assert_allclose(
                [d['score'] for d in g['attributes'][a]],
                [d['score'] for d in vals],
                atol=1e-4,
            )
