from .load_image_tolerant import BadImageError, SafeLoadImage, decode_image
from .pack_attr_inputs import PackAttrInputs
from .random_affine import FashionRandomAffine, affine_matrix
from .resize_pad import ResizePad

__all__ = [
    'BadImageError',
    'FashionRandomAffine',
    'PackAttrInputs',
    'ResizePad',
    'SafeLoadImage',
    'affine_matrix',
    'decode_image',
]
