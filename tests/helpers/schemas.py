"""The schemas the tests share.

* :data:`SMALL_SCHEMA` - five attributes, three categories, an ``allowed``
  table with an attribute that does not apply (unit tests of the head,
  metrics, catalog and samplers).
* :data:`TINY_SCHEMA` - three attributes, two categories: the schema of the
  tiny on-disk catalog (:mod:`tests.helpers.tinydata`).
* :data:`VARIANT_SCHEMA` - value counts in the range of the paper's
  in-house attributes (50 necklines, 89 patterns), for the paper variants
  at full size.
"""

SMALL_SCHEMA = {
    'attributes': [
        {
            'name': 'category',
            'values': ['tee', 'jeans', 'dress'],
            'from_category': True,
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'sleeve',
            'values': ['short', 'long', 'none'],
            'roi': 'small',
            'granularity': 'coarse',
        },
        {
            'name': 'closure',
            'values': ['button', 'zip', 'drawstring', 'elastic'],
            'roi': 'small',
            'granularity': 'coarse',
        },
        {
            'name': 'colour',
            'values': ['red', 'blue', 'white'],
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'pattern',
            'values': ['solid', 'stripes', 'dots', 'checks', 'floral'],
            'roi': 'large',
            'granularity': 'fine',
        },
    ],
    'categories': ['tee', 'jeans', 'dress'],
    'allowed': {
        'tee': {
            'category': ['tee'],
            'sleeve': ['short', 'long'],
            'colour': ['red', 'blue', 'white'],
            'pattern': ['solid', 'stripes', 'dots'],
        },
        'jeans': {
            'category': ['jeans'],
            'closure': ['button', 'zip'],
            'colour': ['blue', 'white'],
            'pattern': ['solid', 'stripes'],
        },
    },
}

TINY_SCHEMA = {
    'attributes': [
        {
            'name': 'category',
            'values': ['top', 'bottom'],
            'from_category': True,
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'colour',
            'values': ['red', 'green', 'blue'],
            'roi': 'large',
            'granularity': 'coarse',
        },
        {
            'name': 'closure',
            'values': ['button', 'zip'],
            'roi': 'small',
            'granularity': 'coarse',
        },
    ],
    'categories': ['top', 'bottom'],
    'allowed': {
        'bottom': {
            'category': ['bottom'],
            'colour': ['red', 'green', 'blue'],
            'closure': ['button', 'zip'],
        }
    },
}

VARIANT_SCHEMA = {
    'attributes': [
        {'name': 'neck', 'values': [f'n{i}' for i in range(50)]},
        {'name': 'pattern', 'values': [f'p{i}' for i in range(89)]},
        {'name': 'sleeve', 'values': ['short', 'long', 'none']},
    ]
}
