"""What a synthetic sample shows and says: garment specs and labels.

:func:`sample_spec` draws a garment (category, length, pattern, colours,
sleeves, closure, neckline) with Zipf-like value frequencies;
:func:`make_labels` turns its true labels into annotations with the data
problems of Parekh & Shaik (VISAPP 2023), section 2: omitted attributes
and unknown values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .vocabulary import (
    ALLOWED,
    ATTRIBUTE_ORDER,
    CATEGORIES,
    CLOSURES,
    COLOUR_NAMES,
    COLOURS,
    MIN_COLOUR_DISTANCE,
    OPTIONAL_ATTRIBUTES,
    P_BOTH_CLOSURES,
    P_NO_CLOSURE,
    PATTERNS,
)


@dataclass
class GarmentSpec:
    """What one garment looks like (the full, true labels).

    Args:
        category: One of :data:`CATEGORIES`.
        length: A length allowed for the category.
        pattern: One of :data:`PATTERNS`.
        colours: Colour names, the main colour first, then the pattern
            colour(s) (none for ``solid``).
        sleeve_length: Sleeve value, None for bottoms.
        closure: Closure values (empty: no closure).
        neck_type: Neckline value, None for bottoms.
    """

    category: str
    length: str
    pattern: str
    colours: Tuple[str, ...]
    sleeve_length: Optional[str] = None
    closure: Tuple[str, ...] = ()
    neck_type: Optional[str] = None

    def labels(self) -> Dict[str, List[str]]:
        """The complete attribute labels (catalog form, no ``category``)."""
        out = dict(
            length=[self.length],
            pattern=[self.pattern],
            colour=list(self.colours),
        )
        if self.sleeve_length is not None:
            out['sleeve_length'] = [self.sleeve_length]
        if 'closure' in ALLOWED[self.category]:
            order = [v for v in CLOSURES if v in self.closure]
            out['closure'] = order
        if self.neck_type is not None:
            out['neck_type'] = [self.neck_type]
        return {a: out[a] for a in ATTRIBUTE_ORDER if a in out}


def zipf_probs(n: int, imbalance: float) -> np.ndarray:
    """Zipf-like probabilities ``p_k ~ (k + 1) ** -imbalance``."""
    w = np.arange(1, n + 1, dtype=np.float64) ** (-float(imbalance))
    return w / w.sum()


def _zipf_choice(
    rng: np.random.Generator, values: Sequence[str], imbalance: float
) -> str:
    return values[
        int(rng.choice(len(values), p=zipf_probs(len(values), imbalance)))
    ]


def rgb_distance(a, b) -> float:
    """Euclidean distance of two colours."""
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))


def sample_spec(
    rng: np.random.Generator,
    imbalance: float = 1.0,
    category: Optional[str] = None,
    exclude: Sequence[str] = (),
) -> GarmentSpec:
    """Draw a random garment.

    Args:
        rng: Random generator.
        imbalance: Zipf exponent of value frequencies (0: uniform).
        category: Force the category.
        exclude: Categories not to draw (when ``category`` is None).
    """
    if category is None:
        cats = [c for c in CATEGORIES if c not in exclude]
        category = _zipf_choice(rng, cats, imbalance)
    al = ALLOWED[category]
    length = _zipf_choice(rng, al['length'], imbalance)
    pattern = _zipf_choice(rng, PATTERNS, imbalance)
    sleeve = neck = None
    if 'sleeve_length' in al:
        sleeve = _zipf_choice(rng, al['sleeve_length'], imbalance)
    if 'neck_type' in al:
        neck = _zipf_choice(rng, al['neck_type'], imbalance)
    closure: Tuple[str, ...] = ()
    if rng.random() >= P_NO_CLOSURE[category]:
        first = _zipf_choice(rng, al['closure'], imbalance)
        closure = (first,)
        if rng.random() < P_BOTH_CLOSURES.get(category, 0.0):
            closure = tuple(al['closure'])
    main = _zipf_choice(rng, COLOUR_NAMES, imbalance)
    colours = [main]
    if pattern != 'solid':
        n_extra = 1
        if (
            pattern in ('stripes_h', 'stripes_v', 'diagonal')
            and rng.random() < 0.3
        ):
            n_extra = 2
        for _ in range(n_extra):
            ok = [
                c
                for c in COLOUR_NAMES
                if all(
                    rgb_distance(COLOURS[c], COLOURS[o]) >= MIN_COLOUR_DISTANCE
                    for o in colours
                )
            ]
            colours.append(ok[int(rng.integers(len(ok)))])
    return GarmentSpec(
        category, length, pattern, tuple(colours), sleeve, closure, neck
    )


@dataclass
class SyntheticConfig:
    """Knobs of the generator (see :func:`make_synthetic_dataset`)."""

    seed: int = 0
    img_size: int = 128
    detail_scale: float = 1.0
    clutter: float = 0.5
    omission_rate: Union[float, Dict[str, float]] = 0.2
    unknown_rate: float = 0.05
    imbalance: float = 1.0
    supersample: int = 2

    def omission(self, attr: str) -> float:
        if isinstance(self.omission_rate, dict):
            return float(self.omission_rate.get(attr, 0.0))
        return float(self.omission_rate)


def make_labels(
    spec: GarmentSpec, rng: np.random.Generator, cfg: SyntheticConfig
) -> Dict[str, List[str]]:
    """The annotated labels: the true ones with some optional attributes
    omitted and some single values marked unknown (``?value``)."""
    full = spec.labels()
    out = {}
    for attr, values in full.items():
        if attr in OPTIONAL_ATTRIBUTES:
            if rng.random() < cfg.omission(attr):
                continue
            if values and rng.random() < cfg.unknown_rate:
                k = int(rng.integers(len(values)))
                values = list(values)
                values[k] = '?' + values[k]
        out[attr] = list(values)
    return out
