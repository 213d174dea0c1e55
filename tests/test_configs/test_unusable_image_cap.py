"""What the shipped configs set for unusable images: every config stops
training when more than 5 % of the images of an epoch are unusable."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_config_caps_unusable_images_at_5_percent(load_config):
    paths = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / 'configs').glob('**/*.py')
        if '_base_' not in p.parts
    )
    for path in paths:
        hooks = [
            h for h in load_config(path).custom_hooks
            if h['type'] == 'BadImageLoggerHook'
        ]  # fmt: skip
        assert [h.get('max_skip_ratio') for h in hooks] == [0.05], path
