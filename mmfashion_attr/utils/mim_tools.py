"""Run mmpretrain's own shipped tools with the plugin loaded."""

import os
import runpy


def mim_tools_dir() -> str:
    """The folder of mmpretrain's shipped ``tools/`` (in the wheel)."""
    import mmpretrain

    return os.path.join(os.path.dirname(mmpretrain.__file__), '.mim', 'tools')


def run_mim_tool(name: str) -> None:
    """Run ``mmpretrain/.mim/tools/<name>`` as ``__main__`` (its own
    command line, ``sys.argv``) after importing this plugin, so the
    compatibility fixes apply before anything else runs."""
    import mmfashion_attr  # noqa: F401

    runpy.run_path(os.path.join(mim_tools_dir(), name), run_name='__main__')
