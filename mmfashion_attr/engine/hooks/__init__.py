from .bad_image_logger_hook import BadImageLoggerHook
from .checkpoint_integrity_hook import (
    CheckpointIntegrityHook,
    NoCheckpointToResumeError,
    choose_resume_checkpoint,
)
from .non_finite_loss_hook import NonFiniteLossHook, describe_batch
from .non_finite_state_hook import NonFiniteStateHook, non_finite_entries
from .schema_check_hook import (
    MissingSchemaError,
    SchemaCheckHook,
    SchemaMismatchError,
    check_checkpoint_schema,
    schema_differences,
)

__all__ = [
    'BadImageLoggerHook',
    'CheckpointIntegrityHook',
    'MissingSchemaError',
    'NoCheckpointToResumeError',
    'NonFiniteLossHook',
    'NonFiniteStateHook',
    'SchemaCheckHook',
    'SchemaMismatchError',
    'check_checkpoint_schema',
    'choose_resume_checkpoint',
    'describe_batch',
    'non_finite_entries',
    'schema_differences',
]
