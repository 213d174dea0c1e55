"""Grad-CAM for one attribute value (Selvaraju et al., ICCV 2017).

Parekh & Shaik (VISAPP 2023) name "subjective quality analysis with feature
visualisation" as future work (section 6). :class:`AttributeGradCAM` shows
where the model looks for one value of one attribute: the gradient of that
value's logit with respect to a feature map (the last backbone tap, or one
level of the neck: FPN or scale-wise CBAM output) weights the map's
channels; the ReLU of the weighted sum is the class activation map.
Implemented with forward / tensor hooks, no external library.
"""

from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .picture_size import fit_within


class AttributeGradCAM:
    """Grad-CAM of a value's logit on one feature map of the model.

    Args:
        model: A built ``ImageClassifier`` with a ``MultiAttributeHead``.
        target_layer: Name of the module whose output is used (as in
            ``model.named_modules()``): ``backbone`` (default; its output is
            the tuple of taps), ``neck.0`` (FPN), ``neck.1`` (scale-wise
            CBAM) ...
        level: Which element when the module returns a tuple / list.
            Defaults to -1 (the last, coarsest tap).
    """

    def __init__(
        self, model: nn.Module, target_layer: str = 'backbone', level: int = -1
    ) -> None:
        modules = dict(model.named_modules())
        if target_layer not in modules:
            near = [n for n in modules if n.count('.') <= 1 and n]
            raise KeyError(f'no module {target_layer!r}; e.g. {near[:12]}')
        self.model = model
        self.module = modules[target_layer]
        self.target_layer = target_layer
        self.level = level

    def _pick(self, out) -> torch.Tensor:
        if isinstance(out, torch.Tensor):
            return out
        return out[self.level]

    def __call__(
        self, inputs: torch.Tensor, flat_index: int
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """CAMs and scores of one value for a batch.

        Args:
            inputs: Normalised network input ``(N, 3, S, S)`` (after the data
                preprocessor).
            flat_index: The value's index in the schema's flat vector.

        Returns:
            ``(cam, score)``: ``(N, h, w)`` maps in ``[0, 1]`` at the feature
            map's resolution (each divided by its maximum; all zero when no
            location has a positive contribution) and the ``(N, )`` sigmoid
            scores of the value.
        """
        store = {}

        def forward_hook(module, args, out):
            feat = self._pick(out)
            store['act'] = feat
            feat.register_hook(lambda g: store.__setitem__('grad', g))

        handle = self.module.register_forward_hook(forward_hook)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.enable_grad():
                logits = self.model.head(self.model.extract_feat(inputs))
                target = logits[:, flat_index]
                self.model.zero_grad(set_to_none=True)
                target.sum().backward()
        finally:
            handle.remove()
            self.model.train(was_training)
        act, grad = store['act'].detach(), store['grad'].detach()
        weights = grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * act).sum(dim=1))
        peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
        cam = torch.where(
            cam.flatten(1).amax(1)[:, None, None] > 0, cam / peak, cam
        )
        return cam, torch.sigmoid(target.detach())


def cam_to_image(
    cam: np.ndarray,
    input_size: int,
    geometry: Optional[Tuple[int, int, int, int]] = None,
    ori_shape: Optional[Tuple[int, int]] = None,
) -> np.ndarray:
    """Upsample a CAM to the square network input; with ``geometry``
    (``(nh, nw, left, top)`` of ``ResizePad``) cut the padding away and
    resize to the original image ``ori_shape`` ``(H, W)``."""
    up = cv2.resize(
        cam.astype(np.float32),
        (input_size, input_size),
        interpolation=cv2.INTER_LINEAR,
    )
    if geometry is None or ori_shape is None:
        return up
    nh, nw, left, top = geometry
    crop = up[top : top + nh, left : left + nw]
    h, w = ori_shape[:2]
    return cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)


def resize_pad_geometry(pipeline, shape) -> Optional[tuple]:
    """``(nh, nw, left, top)`` of the pipeline's ``ResizePad`` for an image
    of ``shape``, or None without one."""
    for t in getattr(pipeline, 'transforms', []):
        if type(t).__name__ == 'ResizePad':
            return t._geometry(*shape[:2])
    return None


def overlay_cam(
    image: np.ndarray,
    cam: np.ndarray,
    alpha: float = 0.5,
    caption: Optional[str] = None,
) -> np.ndarray:
    """``[image | image blended with the JET-coloured CAM]`` (BGR)."""
    heat = cv2.applyColorMap(
        np.uint8(np.clip(cam, 0, 1) * 255), cv2.COLORMAP_JET
    )
    blend = cv2.addWeighted(image, 1 - alpha, heat, alpha, 0)
    out = np.concatenate([image, blend], axis=1)
    if caption:
        bar = np.full((22, out.shape[1], 3), 255, np.uint8)
        cv2.putText(
            bar,
            caption,
            (4, 15),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.42,
            (20, 20, 20),
            1,
            cv2.LINE_AA,
        )
        out = np.concatenate([bar, out], axis=0)
    return out


def attribute_cam(
    extractor,
    image,
    attribute: str,
    value: str,
    target_layer: str = 'backbone',
    level: int = -1,
    category: Optional[str] = None,
    max_size: Optional[int] = None,
) -> Tuple[np.ndarray, float, np.ndarray]:
    """Grad-CAM of ``attribute=value`` for one image.

    Args:
        extractor: An :class:`~mmfashion_attr.apis.AttributeExtractor`.
        image: Anything the extractor accepts (path, array, PIL, bytes).
        attribute: Attribute name.
        value: Value name.
        target_layer: See :class:`AttributeGradCAM`.
        level: See :class:`AttributeGradCAM`.
        category: Optional product category (kept in the metainfo).
        max_size: Longest side of each half of the picture (the image and
            the blend); larger images are shrunk, smaller ones kept.
            Defaults to the side of the network input.

    Returns:
        ``(cam, score, picture)``: the CAM at the original image's size in
        ``[0, 1]``, the value's score, and the side-by-side picture (BGR).
    """
    from ..apis.attribute_extractor import load_image

    model = extractor.model
    k = extractor.schema.flat_index(attribute, value)
    packed = extractor.prepare(image, category)
    data = model.data_preprocessor(
        dict(
            inputs=packed['inputs'][None],
            data_samples=[packed['data_samples']],
        ),
        False,
    )
    cam, score = AttributeGradCAM(model, target_layer, level)(
        data['inputs'], k
    )
    img = load_image(image)
    geometry = resize_pad_geometry(extractor.pipeline, img.shape)
    full = cam_to_image(
        cam[0].cpu().numpy(), data['inputs'].shape[-1], geometry, img.shape[:2]
    )
    if geometry is None:  # no ResizePad: stretch to the image
        full = cv2.resize(full, (img.shape[1], img.shape[0]))
    caption = (
        f'{attribute}={value}  score {float(score[0]):.2f}  '
        f'[{target_layer}{"" if level is None else f"[{level}]"}]'
    )
    if max_size is None:
        max_size = data['inputs'].shape[-1]
    small = fit_within(img, max_size)
    cam_small = cv2.resize(
        full, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA
    )
    return (
        full,
        float(score[0]),
        overlay_cam(small, cam_small, caption=caption),
    )
