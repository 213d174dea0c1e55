"""Every config folder documents its configs in a README and a metafile.

The metafiles follow mmpretrain's model-index format (``Collections`` and
``Models`` with ``Name``, ``Metadata``, ``In Collection``, ``Results``,
``Weights``, ``Config``). They list every config of their folder, only
configs that exist, and no result or weight that was not produced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mmengine.config import Config
from mmpretrain.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
# every folder holding configs, except the shared bases
FOLDERS = sorted(
    {
        p.parent.relative_to(REPO).as_posix()
        for p in (REPO / 'configs').glob('*/**/*.py')
        if '_base_' not in p.parts
    }
)
PAPER_URLS = (
    'https://www.scitepress.org/Papers/2023/116867/',
    'https://doi.org/10.5220/0011686700003417',
)
DEMO = 'configs/demo/approach1_effnetv2-b0_1xb16_synthetic-128px.py'


def _metafile(folder: str) -> dict:
    return yaml.safe_load((REPO / folder / 'metafile.yml').read_text())


@pytest.mark.parametrize('folder', FOLDERS)
def test_folder_has_readme_and_metafile(folder):
    assert (REPO / folder / 'README.md').is_file()
    meta = _metafile(folder)
    (collection,) = meta['Collections']
    assert collection['Paper']['URL'] in PAPER_URLS
    assert (REPO / collection['README']).is_file()
    listed = [m['Config'] for m in meta['Models']]
    configs = sorted(
        p.relative_to(REPO).as_posix() for p in (REPO / folder).glob('*.py')
    )
    assert sorted(listed) == configs, 'a config is missing or listed twice'
    for model in meta['Models']:
        assert model['Name'] == Path(model['Config']).stem
        assert model['In Collection'] == collection['Name']
        # nothing is published that was not produced
        assert model['Weights'] is None
        for result in model['Results'] or []:
            assert {'Dataset', 'Metrics', 'Task'} <= set(result)


def test_model_names_are_unique():
    names = [m['Name'] for f in FOLDERS for m in _metafile(f)['Models']]
    assert len(names) == len(set(names))


def test_public_metafiles_state_the_paper_parameters():
    """The public configs build the paper's models, so they state the
    same numbers as the paper configs' metafile."""
    paper = {
        m['Name'].split('_')[0]: m['Metadata']
        for m in _metafile('configs/paper')['Models']
    }
    for folder in FOLDERS:
        if not folder.startswith('configs/public/'):
            continue
        for model in _metafile(folder)['Models']:
            variant = model['Name'].split('_')[0]
            assert model['Metadata'] == paper[variant], model['Name']


@pytest.mark.parametrize(
    'meta', _metafile('configs/demo')['Models'], ids=lambda m: m['Name']
)
def test_demo_parameters_are_those_of_the_built_model(meta):
    cfg = Config.fromfile(str(REPO / meta['Config']))
    # the synthetic catalog's schema: 7 attributes, 46 values in all
    sizes = [6, 9, 8, 11, 4, 2, 6]
    assert sum(sizes) == 46
    cfg.model.head.schema = {
        'attributes': [
            {'name': f'a{i}', 'values': [f'v{j}' for j in range(n)]}
            for i, n in enumerate(sizes)
        ]
    }
    model = MODELS.build(cfg.model)
    without_head = sum(
        p.numel() for part in (model.backbone, model.neck)
        for p in part.parameters()
    )  # fmt: skip
    assert meta['Metadata']['Parameters without head'] == without_head
    assert meta['Metadata']['Parameters'] == sum(
        p.numel() for p in model.parameters()
    )


def test_the_demo_script_trains_the_demo_model_the_docs_name():
    assert f'CFG=${{CFG:-{DEMO}}}' in (REPO / 'tools' / 'demo.sh').read_text()
