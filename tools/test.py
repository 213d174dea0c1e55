"""Test with mmpretrain's own ``tools/test.py``, with the plugin loaded.

Same command line as mmpretrain's (``--work-dir``, ``--out``, ``--tta``,
``--cfg-options``, ``--launcher`` ...).
"""

from mmfashion_attr.utils.mim_tools import run_mim_tool

if __name__ == '__main__':
    run_mim_tool('test.py')
