"""Inference, export and serving helpers.

Importing this package registers :class:`AttributeExtractor` in mmengine's
``INFERENCERS`` registry.
"""

from .attribute_extractor import (
    AttributeExtractor,
    init_attribute_model,
    load_image,
    read_checkpoint,
)

__all__ = [
    'AttributeExtractor',
    'init_attribute_model',
    'load_image',
    'read_checkpoint',
]
