"""Procedural garment images in the catalog format (the default dataset).

A deterministic, offline stand-in for the in-house fashion catalog of
Parekh & Shaik, "Multi-Scale Feature Based Fashion Attribute Extraction
Using Multi-Task Learning" (VISAPP 2023). It mirrors the difficulty axes of
the paper's Table 2 (region of interest small / large, granularity coarse /
fine) and the data problems of its section 2: missing attributes, class
imbalance, multi-label values, category-dependent values and cross-product
interference (a second garment partly in view, background clutter).

Each image shows one flat-lay garment drawn with numpy and OpenCV:

* ``category`` (large, coarse): the silhouette (t-shirt, shirt, dress,
  trousers, skirt, jacket), with category cues (shirt-tail hem, cuffs and
  chest pocket of a shirt, pocket flaps of a jacket, waistband and legs...).
* ``length`` (large, coarse): the garment's aspect ratio; the values depend
  on the category (cropped / regular / long tops, mini / midi / maxi dresses
  and skirts, shorts / capri / ankle trousers).
* ``pattern`` (large, fine): a texture over the whole garment; periods and
  dot sizes never go below a few output pixels, so what is labelled is
  visible at the chosen image size.
* ``colour`` (large, coarse, multi-label): the garment's main colour plus
  its pattern colour(s); the distractor garment and the clutter are not
  labelled.
* ``sleeve_length`` (small, coarse): sleeves; tops and dresses only.
* ``closure`` (small, coarse, multi-label): a row of small buttons and/or a
  thin zip with a pull, on a narrow placket; no closure is the empty list
  ``[]`` (labelled, no value applies).
* ``neck_type`` (small, fine): a small neckline shape; tops and dresses.

Small details (neckline, closure) scale with ``detail_scale``; with the
default, at 128 px buttons are 1.4 to 2.2 px in radius (never under 1.1 px)
and necklines 12 to 25 px wide (the garment fills 65 to 90 % of the
frame).

Modules: :mod:`.vocabulary` (categories, values, colours, allowed values,
schema), :mod:`.specs` (garment specs and labels), :mod:`.geometry`
(silhouettes, necklines, sleeves), :mod:`.textures` (patterns),
:mod:`.drawing` (rendering) and :mod:`.writer` (samples and the dataset
files).
"""

from .drawing import render_garment
from .specs import GarmentSpec, SyntheticConfig, make_labels, sample_spec
from .vocabulary import ALLOWED, CATEGORIES, COLOURS, build_schema
from .writer import generate_sample, make_synthetic_dataset

__all__ = [
    'ALLOWED',
    'CATEGORIES',
    'COLOURS',
    'GarmentSpec',
    'SyntheticConfig',
    'build_schema',
    'generate_sample',
    'make_labels',
    'make_synthetic_dataset',
    'render_garment',
    'sample_spec',
]
