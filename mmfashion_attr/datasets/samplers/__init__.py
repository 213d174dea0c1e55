from .repeat_factor_attr_sampler import (
    AttributeRepeatFactorSampler,
    attribute_repeat_factors,
)

__all__ = ['AttributeRepeatFactorSampler', 'attribute_repeat_factors']
