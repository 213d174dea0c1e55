"""Data structures: the attribute schema."""

from .attribute_schema import AttributeSchema, AttributeSpec, SchemaError

__all__ = ['AttributeSchema', 'AttributeSpec', 'SchemaError']
