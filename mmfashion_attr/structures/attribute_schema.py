"""The attribute schema: attributes, their values, categories, allowed values.

A schema is a JSON file (or the equivalent dict)::

    {
      "attributes": [
        {"name": "sleeve_length", "values": ["sleeveless", "short", "long"],
         "roi": "small", "granularity": "coarse"},
        {"name": "category", "values": ["t-shirt", "jeans"],
         "from_category": true},
        ...
      ],
      "categories": ["t-shirt", "jeans"],
      "allowed": {
        "t-shirt": {"sleeve_length": ["short", "long"]},
        "jeans":   {}
      }
    }

* ``roi`` (``small`` / ``large``) and ``granularity`` (``coarse`` / ``fine``)
  are the axes of the paper's Table 2; metrics average over these groups.
* ``allowed`` is optional. A category listed there allows only the listed
  values; an attribute not listed under that category does not apply to it
  (all of its values are left out of the loss and suppressed at prediction).
  A category not listed in ``allowed`` (or an unknown category) allows all.
* ``from_category: true`` marks an attribute whose label is the record's
  product category (the paper's category branch). It is never masked by
  ``allowed``: all its values stay in the loss, or the branch would see
  no negatives.

All attribute values are laid out in one flat vector of ``num_values``
entries: attribute ``i`` owns ``slice(offsets[i], offsets[i + 1])``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

ROI_CHOICES = ('small', 'large', None)
GRANULARITY_CHOICES = ('coarse', 'fine', None)


class SchemaError(ValueError):
    """A schema file or dict that is not valid."""


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute (one task of the multi-task model).

    Args:
        name: Attribute name, e.g. ``neck_type``.
        values: Allowed value names, in output order.
        roi: ``small`` or ``large`` region of interest (paper, Table 2).
        granularity: ``coarse`` or ``fine`` (paper, Table 2).
        from_category: The label is the record's product category.
    """

    name: str
    values: tuple
    roi: Optional[str] = None
    granularity: Optional[str] = None
    from_category: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def num_values(self) -> int:
        return len(self.values)


class AttributeSchema:
    """Attributes and allowed values of a fashion catalog.

    Args:
        attributes: Attribute specs (dicts with ``name`` and ``values`` or
            :class:`AttributeSpec`).
        categories: Product category names. Defaults to none.
        allowed: ``{category: {attribute: [values]}}``. Defaults to all
            values allowed for every category.
        source: Where the schema came from, used in error messages.
    """

    def __init__(
        self,
        attributes: Sequence[Union[dict, AttributeSpec]],
        categories: Sequence[str] = (),
        allowed: Optional[Dict[str, Dict[str, List[str]]]] = None,
        source: str = '<dict>',
    ) -> None:
        self.source = source
        specs = []
        for i, attr in enumerate(attributes):
            specs.append(self._parse_attribute(attr, i))
        if not specs:
            raise SchemaError(f'{source}: the schema has no attributes')
        names = [s.name for s in specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SchemaError(f'{source}: duplicate attribute names {dup}')
        self.attributes: List[AttributeSpec] = specs
        self.categories: List[str] = [str(c) for c in categories]
        if len(set(self.categories)) != len(self.categories):
            raise SchemaError(f'{source}: duplicate category names')
        self.offsets = np.cumsum([0] + [s.num_values for s in specs]).tolist()
        self._attr_index = {s.name: i for i, s in enumerate(specs)}
        self._value_index = [
            {v: j for j, v in enumerate(s.values)} for s in specs
        ]
        self._category_index = {c: i for i, c in enumerate(self.categories)}
        self.allowed = self._parse_allowed(allowed or {})

    # ------------------------------------------------------------------ io
    @classmethod
    def load(cls, path: str) -> 'AttributeSchema':
        """Read a schema JSON file."""
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except FileNotFoundError:
            raise SchemaError(f'{path}: schema file not found') from None
        except json.JSONDecodeError as e:
            raise SchemaError(f'{path}: not valid JSON ({e})') from None
        return cls.from_dict(data, source=path)

    @classmethod
    def from_dict(
        cls, data: dict, source: str = '<dict>'
    ) -> 'AttributeSchema':
        if not isinstance(data, dict) or 'attributes' not in data:
            raise SchemaError(
                f"{source}: expected an object with 'attributes'"
            )
        return cls(
            data['attributes'],
            data.get('categories', ()),
            data.get('allowed'),
            source=source,
        )

    @classmethod
    def build(
        cls, schema: Union[str, dict, 'AttributeSchema']
    ) -> 'AttributeSchema':
        """A schema from a path, a dict or a schema."""
        if isinstance(schema, AttributeSchema):
            return schema
        if isinstance(schema, (str, os.PathLike)):
            return cls.load(os.fspath(schema))
        return cls.from_dict(dict(schema))

    def to_dict(self) -> dict:
        attrs = []
        for s in self.attributes:
            d = dict(name=s.name, values=list(s.values))
            if s.roi:
                d['roi'] = s.roi
            if s.granularity:
                d['granularity'] = s.granularity
            if s.from_category:
                d['from_category'] = True
            d.update(s.extra)
            attrs.append(d)
        out = dict(attributes=attrs, categories=list(self.categories))
        if self.allowed:
            out['allowed'] = self.allowed
        return out

    def dump(self, path: str) -> None:
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f, indent=1)

    # -------------------------------------------------------------- parsing
    def _parse_attribute(self, attr, i: int) -> AttributeSpec:
        if isinstance(attr, AttributeSpec):
            return attr
        where = f'{self.source}: attribute #{i}'
        if not isinstance(attr, dict) or 'name' not in attr:
            raise SchemaError(f'{where}: expected an object with a name')
        values = attr.get('values')
        if not isinstance(values, (list, tuple)) or not values:
            raise SchemaError(
                f"{where} ({attr['name']}): 'values' must be a non-empty list"
            )
        values = tuple(str(v) for v in values)
        if len(set(values)) != len(values):
            raise SchemaError(f'{where} ({attr["name"]}): duplicate values')
        bad = [v for v in values if v.startswith('?')]
        if bad:
            raise SchemaError(
                f'{where} ({attr["name"]}): value names may not '
                f"start with '?' (the unknown marker): {bad}"
            )
        roi, gran = attr.get('roi'), attr.get('granularity')
        if roi not in ROI_CHOICES:
            raise SchemaError(
                f'{where}: roi must be small or large, not {roi}'
            )
        if gran not in GRANULARITY_CHOICES:
            raise SchemaError(
                f'{where}: granularity must be coarse or fine, not {gran}'
            )
        known = {'name', 'values', 'roi', 'granularity', 'from_category'}
        extra = {k: v for k, v in attr.items() if k not in known}
        return AttributeSpec(
            str(attr['name']),
            values,
            roi,
            gran,
            bool(attr.get('from_category', False)),
            extra,
        )

    def _parse_allowed(self, allowed: dict) -> dict:
        out = {}
        for cat, per_attr in allowed.items():
            if cat not in self._category_index:
                raise SchemaError(
                    f"{self.source}: 'allowed' names unknown category {cat!r}"
                )
            out[cat] = {}
            for attr, values in per_attr.items():
                if attr not in self._attr_index:
                    raise SchemaError(
                        f"{self.source}: 'allowed' for {cat!r} "
                        f'names unknown attribute {attr!r}'
                    )
                vi = self._value_index[self._attr_index[attr]]
                unknown = [v for v in values if v not in vi]
                if unknown:
                    raise SchemaError(
                        f"{self.source}: 'allowed' for {cat!r}/{attr} names "
                        f'unknown values {unknown}'
                    )
                out[cat][attr] = list(values)
        return out

    # ------------------------------------------------------------ accessors
    @property
    def names(self) -> List[str]:
        return [s.name for s in self.attributes]

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)

    @property
    def num_values(self) -> int:
        return self.offsets[-1]

    @property
    def num_values_per_attribute(self) -> List[int]:
        return [s.num_values for s in self.attributes]

    def attribute_index(self, name: str) -> int:
        try:
            return self._attr_index[name]
        except KeyError:
            raise KeyError(f'unknown attribute {name!r}') from None

    def value_index(self, attribute: str, value: str) -> int:
        """Position of ``value`` inside its attribute (not flat)."""
        i = self.attribute_index(attribute)
        try:
            return self._value_index[i][value]
        except KeyError:
            raise KeyError(
                f'unknown value {value!r} of attribute {attribute!r}'
            ) from None

    def flat_index(self, attribute: str, value: str) -> int:
        """Position of ``value`` in the flat vector of all values."""
        i = self.attribute_index(attribute)
        return self.offsets[i] + self.value_index(attribute, value)

    def slice(self, attribute: Union[str, int]) -> slice:
        i = (
            attribute
            if isinstance(attribute, int)
            else self.attribute_index(attribute)
        )
        return slice(self.offsets[i], self.offsets[i + 1])

    def category_index(self, category: Optional[str]) -> int:
        """Index of a category, ``-1`` for ``None``; KeyError if unknown."""
        if category is None:
            return -1
        try:
            return self._category_index[category]
        except KeyError:
            raise KeyError(f'unknown category {category!r}') from None

    def attribute_ids(self) -> np.ndarray:
        """For each flat value, the index of its attribute."""
        return np.repeat(
            np.arange(self.num_attributes), self.num_values_per_attribute
        )

    def allowed_matrix(self) -> np.ndarray:
        """Bool ``[num_categories + 1, num_values]``; the last row (index -1,
        unknown category) allows everything."""
        mat = np.ones((len(self.categories) + 1, self.num_values), dtype=bool)
        for cat, per_attr in self.allowed.items():
            row = mat[self._category_index[cat]]
            row[:] = False
            for attr, values in per_attr.items():
                for v in values:
                    row[self.flat_index(attr, v)] = True
        # The category branch predicts the category itself: masking it by
        # the category would leave it no negatives to learn from.
        for i, spec in enumerate(self.attributes):
            if spec.from_category:
                mat[:, self.slice(i)] = True
        return mat

    def is_allowed(
        self, category: Optional[str], attribute: str, value: str
    ) -> bool:
        if category is None or category not in self.allowed:
            return True
        return value in self.allowed[category].get(attribute, ())

    def groups(self) -> Dict[str, List[str]]:
        """Attribute names per declared group (``roi/small``,
        ``granularity/fine``...)."""
        out: Dict[str, List[str]] = {}
        for s in self.attributes:
            if s.roi:
                out.setdefault(f'roi/{s.roi}', []).append(s.name)
            if s.granularity:
                out.setdefault(f'granularity/{s.granularity}', []).append(
                    s.name
                )
        return out

    def __repr__(self) -> str:
        return (
            f'AttributeSchema({self.num_attributes} attributes, '
            f'{self.num_values} values, {len(self.categories)} '
            f'categories, source={self.source!r})'
        )
