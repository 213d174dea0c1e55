from .multi_attribute_head import MultiAttributeHead

__all__ = ['MultiAttributeHead']
