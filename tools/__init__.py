"""Command-line tools of mmfashion_attr.

Every tool runs as a script (``python tools/<group>/<tool>.py ...``) and is
importable as a module (``tools.<group>.<tool>``, for tests). Helpers that
several tools share live in :mod:`tools.common`; they are imported as a
package, so the repository root must be importable (``tools/setup_env.sh``
registers it in ``.venv``; elsewhere set ``PYTHONPATH`` to it).
"""
