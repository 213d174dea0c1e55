from .repeat_factor_attr_sampler import (
    AttributeRepeatFactorSampler,
    attribute_repeat_factors,
)
from .resumable_sampler import ResumableSampler

__all__ = [
    'AttributeRepeatFactorSampler',
    'ResumableSampler',
    'attribute_repeat_factors',
]
