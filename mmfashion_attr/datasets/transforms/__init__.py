from .pack_attr_inputs import PackAttrInputs
from .random_affine import FashionRandomAffine, affine_matrix
from .resize_pad import ResizePad

__all__ = [
    'FashionRandomAffine',
    'PackAttrInputs',
    'ResizePad',
    'affine_matrix',
]
