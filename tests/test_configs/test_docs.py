"""The documentation points at things that exist.

* every relative link of the README, ``CONTRIBUTING.md``, ``docs/`` and the
  config READMEs reaches a file, and a ``#fragment`` one of its headings;
* every page under ``docs/en/`` is one link away from the README;
* every repository path the documentation names in code spans
  (``tools/...``, ``mmfashion_attr/...``, ``configs/...``, ``tests/...``,
  ``.dev_scripts/...``) exists;
* the demo checkpoint the documentation names is the one the demo writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted(
    p.relative_to(REPO).as_posix()
    for p in [
        REPO / 'README.md',
        REPO / 'CONTRIBUTING.md',
        *(REPO / 'docs').rglob('*.md'),
        *(REPO / 'configs').rglob('README.md'),
    ]
)
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
CODE_SPAN = re.compile(r'`([^`\n]+)`')
REPO_PATH = re.compile(
    r'^(?:tools|mmfashion_attr|configs|tests|\.dev_scripts)/[\w./-]*$'
)
DEMO = 'configs/demo/approach1_effnetv2-b0_1xb16_synthetic-128px.py'


def _prose(path: str) -> str:
    """The page without its fenced code blocks."""
    text = (REPO / path).read_text(encoding='utf-8')
    return re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r'[`*_]', '', heading.strip().lower())
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def _anchors(path: Path) -> Set[str]:
    text = re.sub(
        r'^```.*?^```', '', path.read_text(encoding='utf-8'),
        flags=re.M | re.S,
    )  # fmt: skip
    return {_slug(m.group(1)) for m in re.finditer(r'^#+\s+(.*)$', text, re.M)}


def _links(path: str) -> Iterator[Tuple[Path, str]]:
    for target in LINK.findall(_prose(path)):
        if re.match(r'^[a-z]+:', target):  # http(s), mailto
            continue
        file_part, _, fragment = target.partition('#')
        resolved = (REPO / path).parent / file_part if file_part else None
        yield resolved or REPO / path, fragment


@pytest.mark.parametrize('page', DOCS)
def test_relative_links_resolve(page):
    broken: List[str] = []
    for target, fragment in _links(page):
        if not target.exists():
            broken.append(str(target.relative_to(REPO)))
        elif fragment and target.suffix == '.md':
            if fragment not in _anchors(target):
                broken.append(f'{target.relative_to(REPO)}#{fragment}')
    assert not broken, f'{page} links to missing targets'


def test_every_docs_page_is_one_hop_from_the_readme():
    linked = {
        target.resolve() for target, _ in _links('README.md')
    }  # fmt: skip
    pages = sorted((REPO / 'docs' / 'en').rglob('*.md'))
    missing = [
        p.relative_to(REPO).as_posix() for p in pages if p not in linked
    ]
    assert not missing


def _named_paths(page: str) -> Set[str]:
    """Repository paths in the code spans and code blocks of a page."""
    text = (REPO / page).read_text(encoding='utf-8')
    blocks = re.findall(r'^```.*?^```', text, flags=re.M | re.S)
    tokens = ' '.join(CODE_SPAN.findall(_prose(page)) + blocks).split()
    named = {t.strip('\'"(),:;=[]').rstrip('.') for t in tokens}
    # placeholders such as configs/public/<dataset>/ are not paths
    return {p for p in named if REPO_PATH.match(p) and '<' not in p}


@pytest.mark.parametrize(
    'page', [p for p in DOCS if not p.endswith('changelog.md')]
)  # the changelog also names paths that are gone, on purpose
def test_named_repository_paths_exist(page):
    missing = sorted(p for p in _named_paths(page) if not (REPO / p).exists())
    assert not missing, f'{page} names paths that do not exist'


def test_docs_name_the_checkpoint_the_demo_writes():
    cfg = Config.fromfile(str(REPO / DEMO))
    epochs = cfg.train_cfg.max_epochs
    assert epochs % cfg.default_hooks.checkpoint.interval == 0
    named = {
        int(n)
        for page in DOCS
        for n in re.findall(
            r'work_dirs/demo/epoch_(\d+)\.pth',
            (REPO / page).read_text(encoding='utf-8'),
        )
    }
    assert named == {epochs}
