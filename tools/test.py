"""Test with mmpretrain's own ``tools/test.py``, with the plugin loaded.

Same command line as mmpretrain's (``--work-dir``, ``--out``, ``--tta``,
``--cfg-options``, ``--launcher`` ...). Configs also import the plugin by
``custom_imports``, so mmpretrain's shipped script works as well.
"""

import os
import runpy

import mmpretrain

import mmfashion_attr  # noqa: F401  (compat fixes before anything runs)

if __name__ == '__main__':
    tools = os.path.join(os.path.dirname(mmpretrain.__file__), '.mim', 'tools')
    runpy.run_path(os.path.join(tools, 'test.py'), run_name='__main__')
