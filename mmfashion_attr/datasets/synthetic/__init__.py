"""The embedded default dataset: procedural garment images written in the
catalog format (see :mod:`.garment_generator`)."""

from .garment_generator import (
    ALLOWED,
    CATEGORIES,
    COLOURS,
    GarmentSpec,
    SyntheticConfig,
    build_schema,
    generate_sample,
    make_synthetic_dataset,
    render_garment,
    sample_spec,
)

__all__ = [
    'ALLOWED',
    'CATEGORIES',
    'COLOURS',
    'GarmentSpec',
    'SyntheticConfig',
    'build_schema',
    'generate_sample',
    'make_synthetic_dataset',
    'render_garment',
    'sample_spec',
]
