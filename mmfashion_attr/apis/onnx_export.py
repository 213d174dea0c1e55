"""ONNX export: one named output of sigmoid scores per attribute.

mmdeploy's classification exporter expects one ``(N, num_classes)`` output
and cannot export a multi-task head. :class:`AttributeScores` wraps the
model of Parekh & Shaik (VISAPP 2023) - backbone, neck, branch networks -
with its input normalisation and splits the sigmoid scores per attribute,
so a server reads ``outputs["sleeve_length"]`` directly. The graph is
exported with torch's TorchScript-based exporter (``dynamo=False``: the
dynamo exporter needs ``onnxscript``) with a dynamic batch axis; the schema,
input size, channel order and (optionally) the thresholds are stored in the
model's ``metadata_props``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from ..evaluation.thresholds import load_thresholds
from ..structures import AttributeSchema
from ..utils.misc import get_test_pipeline_cfg


def output_names(schema: AttributeSchema) -> List[str]:
    """ONNX output names: attribute names with characters other than
    letters, digits and ``_`` replaced by ``_`` (made unique)."""
    names: List[str] = []
    for a in schema.names:
        name = re.sub(r'\W', '_', a, flags=re.ASCII) or 'attribute'
        base, k = name, 1
        while name in names:
            k += 1
            name = f'{base}_{k}'
        names.append(name)
    return names


class AttributeScores(nn.Module):
    """Image batch in, one tensor of sigmoid scores per attribute out.

    Input: ``float32 (N, 3, S, S)`` pixels in ``[0, 255]``, **BGR** (as
    ``cv2.imread``), already resized and padded like the config's test
    pipeline (``ResizePad``). The model's data preprocessor (BGR to RGB,
    mean / std) runs inside. Output ``i``: ``(N, num_values_i)`` scores of
    attribute ``i`` in schema order. No category mask (apply the schema's
    ``allowed`` values after, if the category is known).

    Args:
        model: A built ``ImageClassifier`` with a ``MultiAttributeHead``.
        split: One output per attribute (True, what is exported) or the
            flat ``(N, num_values)`` scores of all attributes (False, what
            the inference backends return).
    """

    def __init__(self, model: nn.Module, split: bool = True) -> None:
        super().__init__()
        self.model = model
        self.split = split
        self.schema: AttributeSchema = model.head.schema
        pre = model.data_preprocessor
        self.to_rgb = bool(
            getattr(pre, '_channel_conversion', getattr(pre, 'to_rgb', False))
        )
        normalize = getattr(pre, '_enable_normalize', False)
        mean = pre.mean.detach().clone() if normalize else torch.zeros(3, 1, 1)
        std = pre.std.detach().clone() if normalize else torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.view(1, -1, 1, 1).float())
        self.register_buffer('std', std.view(1, -1, 1, 1).float())

    def forward(self, image: torch.Tensor):
        x = image.float()
        if self.to_rgb:
            x = x.flip(1)
        x = (x - self.mean) / self.std
        scores = torch.sigmoid(self.model.head(self.model.extract_feat(x)))
        if not self.split:
            return scores
        return tuple(self.model.head.split_logits(scores).values())


def input_size(cfg) -> int:
    """Side of the square network input from the test pipeline's
    ``ResizePad`` (``scale``)."""
    for t in get_test_pipeline_cfg(cfg):
        if t.get('type') == 'ResizePad':
            return int(t['scale'])
    raise ValueError('no ResizePad in the test pipeline: pass input_size')


def export_onnx(
    model: nn.Module,
    out_file: str,
    input_size: int,
    thresholds: Union[None, float, str, dict] = None,
    opset: int = 17,
    batch_size: int = 2,
) -> Dict[str, str]:
    """Export ``model`` to ``out_file``; returns ``{attribute: output}``.

    Args:
        model: A built model (eval mode is set here).
        out_file: The ``.onnx`` file to write.
        input_size: Side of the square input (the ``ResizePad`` scale).
        thresholds: Optional thresholds (float, dict, JSON file) stored in
            the metadata as ``thresholds`` (JSON) for the server.
        opset: ONNX opset (>= 17).
        batch_size: Batch of the example input (the axis stays dynamic).
    """
    import onnx

    wrapper = AttributeScores(model.eval()).eval()
    names = output_names(wrapper.schema)
    device = next(model.parameters()).device
    dummy = (
        torch.rand(batch_size, 3, input_size, input_size, device=device) * 255
    )
    dynamic = {'image': {0: 'batch'}}
    dynamic.update({n: {0: 'batch'} for n in names})
    os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (dummy,),
            out_file,
            dynamo=False,
            opset_version=opset,
            input_names=['image'],
            output_names=names,
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )
    model.eval()  # the exporter restores the wrapper's mode only
    proto = onnx.load(out_file)
    mapping = dict(zip(wrapper.schema.names, names))
    meta = dict(
        schema=json.dumps(wrapper.schema.to_dict()),
        outputs=json.dumps(mapping),
        input_size=str(input_size),
        input_format='float32 NCHW, BGR 0..255, ResizePad to a '
        'square of input_size',
    )
    if thresholds is not None:
        meta['thresholds'] = json.dumps(load_thresholds(thresholds))
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(proto)
    onnx.save(proto, out_file)
    return mapping


def onnx_metadata(path: str) -> Dict[str, str]:
    """The ``metadata_props`` of an exported model as a dict."""
    import onnx

    return {p.key: p.value for p in onnx.load(path).metadata_props}


def compare_with_onnxruntime(
    model: nn.Module,
    onnx_file: str,
    images: torch.Tensor,
    names: Optional[Sequence[str]] = None,
) -> float:
    """Largest absolute difference between PyTorch and onnxruntime scores
    on ``images`` (``float32 (N, 3, S, S)``, BGR 0..255)."""
    import onnxruntime as ort

    wrapper = AttributeScores(model.eval()).eval()
    with torch.no_grad():
        device = next(model.parameters()).device
        ref = [r.cpu() for r in wrapper(images.to(device))]
    sess = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    got = sess.run(
        list(names) if names else None,
        {'image': images.cpu().numpy().astype('float32')},
    )
    return max(
        float((torch.from_numpy(g) - r).abs().max()) for g, r in zip(got, ref)
    )
