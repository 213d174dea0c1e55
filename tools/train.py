"""Train with mmpretrain's own ``tools/train.py``, with the plugin loaded.

Same command line as mmpretrain's (``--work-dir``, ``--resume``, ``--amp``,
``--cfg-options``, ``--launcher`` ...). Configs also import the plugin by
``custom_imports``, so mmpretrain's shipped script works as well.
"""

from mmfashion_attr.utils.mim_tools import run_mim_tool

if __name__ == '__main__':
    run_mim_tool('train.py')
