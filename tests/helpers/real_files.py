"""Paths of the excerpts of real release files (``tests/data/real``, see
its README for the sources)."""

import os.path as osp

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TESTS)
REAL = osp.join(TESTS, 'data', 'real')
# the Kaggle 2020 label_descriptions.json (the Fashionpedia ontology)
LABELS_2020 = osp.join(REAL, 'imaterialist2020', 'label_descriptions.json')
LABEL_MAP_2018 = osp.join(
    REAL, 'imaterialist2018', 'iMat_fashion_2018_label_map_228.csv'
)
TRAIN_CSV_2020 = osp.join(REAL, 'imaterialist2020', 'train.csv')


def real(*parts: str) -> str:
    """A path under ``tests/data/real``."""
    return osp.join(REAL, *parts)
