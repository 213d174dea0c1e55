from .bad_image_logger_hook import BadImageLoggerHook
from .non_finite_loss_hook import NonFiniteLossHook, describe_batch
from .schema_check_hook import (
    SchemaCheckHook,
    SchemaMismatchError,
    schema_differences,
)

__all__ = [
    'BadImageLoggerHook',
    'NonFiniteLossHook',
    'SchemaCheckHook',
    'SchemaMismatchError',
    'describe_batch',
    'schema_differences',
]
