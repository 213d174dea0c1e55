"""mmfashion_attr: multi-scale fashion attribute extraction for mmpretrain.

Importing the package applies the OpenMMLab compatibility fixes
(:mod:`mmfashion_attr.utils.compat`) and registers the models, datasets,
transforms and metrics into mmpretrain's registries. Configs bring it in
with ``custom_imports = dict(imports=['mmfashion_attr'],
allow_failed_imports=False)``.
"""

from .utils import compat

compat.apply_all()

from . import (  # noqa: E402,F401
    apis,
    datasets,
    engine,
    evaluation,
    models,
    structures,
    visualization,
)
from .structures import AttributeSchema  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['AttributeSchema', '__version__', 'compat']
