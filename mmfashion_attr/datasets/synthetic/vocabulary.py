"""The synthetic catalog's vocabulary: categories, attribute values,
colours and the values each category allows.

The attributes mirror the difficulty axes of Parekh & Shaik (VISAPP 2023),
Table 2: region of interest (small / large) and granularity (coarse /
fine). Tuples are in frequency-rank order: under ``imbalance`` the first
value is the most frequent.
"""

from __future__ import annotations

from typing import Dict, Tuple

CATEGORIES = ('t-shirt', 'shirt', 'dress', 'trousers', 'skirt', 'jacket')
TOPS = ('t-shirt', 'shirt', 'jacket')
BOTTOMS = ('trousers', 'skirt')

LENGTHS = (
    'cropped',
    'regular',
    'long',
    'mini',
    'midi',
    'maxi',
    'shorts',
    'capri',
    'ankle',
)
PATTERNS = (
    'solid',
    'stripes_h',
    'stripes_v',
    'checks',
    'dots',
    'floral',
    'zigzag',
    'diagonal',
)
SLEEVES = ('sleeveless', 'short', 'three_quarter', 'long')
CLOSURES = ('button', 'zip')
NECKS = ('round', 'v_neck', 'collar', 'square', 'boat', 'turtle')
# Named colours (RGB). Order = frequency rank under ``imbalance``.
COLOURS: Dict[str, Tuple[int, int, int]] = {
    'black': (28, 28, 30),
    'white': (242, 242, 238),
    'blue': (35, 75, 200),
    'red': (205, 35, 35),
    'grey': (128, 128, 128),
    'green': (40, 150, 60),
    'pink': (240, 135, 185),
    'yellow': (242, 215, 40),
    'brown': (115, 70, 35),
    'purple': (120, 50, 165),
    'orange': (245, 130, 20),
}
COLOUR_NAMES = tuple(COLOURS)

# Allowed values per category, in frequency-rank order (the first value is
# the most frequent under ``imbalance``). ``category`` lists every category
# so the category task keeps its negatives when the model masks the loss
# with the allowed values of the ground-truth category.
ALLOWED: Dict[str, Dict[str, Tuple[str, ...]]] = {
    't-shirt': dict(
        length=('regular', 'cropped', 'long'),
        sleeve_length=('short', 'long', 'sleeveless', 'three_quarter'),
        closure=('button',),
        neck_type=('round', 'v_neck', 'boat', 'square', 'turtle'),
    ),
    'shirt': dict(
        length=('regular', 'long', 'cropped'),
        sleeve_length=('long', 'short', 'three_quarter'),
        closure=('button', 'zip'),
        neck_type=('collar', 'round', 'v_neck'),
    ),
    'dress': dict(
        length=('midi', 'mini', 'maxi'),
        sleeve_length=('sleeveless', 'short', 'three_quarter', 'long'),
        closure=('zip', 'button'),
        neck_type=('round', 'v_neck', 'square', 'boat', 'collar'),
    ),
    'trousers': dict(
        length=('ankle', 'shorts', 'capri'), closure=('zip', 'button')
    ),
    'skirt': dict(length=('midi', 'mini', 'maxi'), closure=('zip', 'button')),
    'jacket': dict(
        length=('regular', 'long', 'cropped'),
        sleeve_length=('long', 'three_quarter', 'sleeveless'),
        closure=('zip', 'button'),
        neck_type=('collar', 'round', 'turtle', 'v_neck'),
    ),
}
# Probability that a garment has no closure at all (labelled ``[]``) and
# that it has both a zip and buttons.
P_NO_CLOSURE = {
    't-shirt': 0.6,
    'shirt': 0.1,
    'dress': 0.45,
    'trousers': 0.0,
    'skirt': 0.3,
    'jacket': 0.15,
}
P_BOTH_CLOSURES = {'trousers': 0.3, 'jacket': 0.25}
# Attributes that may be omitted or marked unknown; never category/colour.
OPTIONAL_ATTRIBUTES = (
    'length',
    'pattern',
    'sleeve_length',
    'closure',
    'neck_type',
)
ATTRIBUTE_ORDER = (
    'category',
    'length',
    'pattern',
    'colour',
    'sleeve_length',
    'closure',
    'neck_type',
)
MIN_COLOUR_DISTANCE = 95.0  # between the colours of one garment (RGB)
MIN_BG_DISTANCE = 70.0  # between the background and garment colours


# Attributes in schema order: (name, values, roi, granularity), the axes of
# the paper's Table 2.
SCHEMA_ATTRIBUTES = (
    ('category', CATEGORIES, 'large', 'coarse'),
    ('length', LENGTHS, 'large', 'coarse'),
    ('pattern', PATTERNS, 'large', 'fine'),
    ('colour', COLOUR_NAMES, 'large', 'coarse'),
    ('sleeve_length', SLEEVES, 'small', 'coarse'),
    ('closure', CLOSURES, 'small', 'coarse'),
    ('neck_type', NECKS, 'small', 'fine'),
)


def build_schema() -> dict:
    """The schema of the synthetic dataset (the ``schema.json`` content)."""
    attributes = []
    for name, values, roi, granularity in SCHEMA_ATTRIBUTES:
        attr = dict(
            name=name, values=list(values), roi=roi, granularity=granularity
        )
        if name == 'category':
            attr['from_category'] = True
        attributes.append(attr)
    allowed = {}
    for cat in CATEGORIES:
        per = dict(
            category=list(CATEGORIES),
            pattern=list(PATTERNS),
            colour=list(COLOUR_NAMES),
        )
        for attr, values in ALLOWED[cat].items():
            per[attr] = [v for v in _schema_values(attr) if v in values]
        allowed[cat] = {a: per[a] for a in ATTRIBUTE_ORDER if a in per}
    return dict(
        attributes=attributes, categories=list(CATEGORIES), allowed=allowed
    )


def _schema_values(attr: str) -> Tuple[str, ...]:
    return dict(
        length=LENGTHS,
        sleeve_length=SLEEVES,
        closure=CLOSURES,
        neck_type=NECKS,
    )[attr]
