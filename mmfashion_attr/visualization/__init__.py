"""Prediction pictures, precision-recall curves and Grad-CAM."""

from .grad_cam import (
    AttributeGradCAM,
    attribute_cam,
    cam_to_image,
    overlay_cam,
)
from .picture_size import fit_within, network_input_size, save_picture
from .prediction_picture import (
    attribute_verdicts,
    draw_prediction,
    stack_pictures,
)

__all__ = [
    'AttributeGradCAM',
    'attribute_cam',
    'cam_to_image',
    'overlay_cam',
    'attribute_verdicts',
    'draw_prediction',
    'fit_within',
    'network_input_size',
    'save_picture',
    'stack_pictures',
]
