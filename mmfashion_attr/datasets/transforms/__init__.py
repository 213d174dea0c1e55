from .pack_attr_inputs import PackAttrInputs

__all__ = ['PackAttrInputs']
