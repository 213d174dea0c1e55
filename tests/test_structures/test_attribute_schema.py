import numpy as np
import pytest

from mmfashion_attr.structures import AttributeSchema, SchemaError


def test_flat_layout_and_lookup(small_schema):
    s = small_schema
    assert s.num_values == 3 + 3 + 4 + 3 + 5
    assert s.offsets == [0, 3, 6, 10, 13, 18]
    assert s.flat_index('closure', 'zip') == 7
    assert s.slice('pattern') == slice(13, 18)
    assert (
        s.attribute_ids().tolist()
        == [0] * 3 + [1] * 3 + [2] * 4 + [3] * 3 + [4] * 5
    )
    assert s.groups()['roi/small'] == ['sleeve', 'closure']
    assert s.groups()['granularity/fine'] == ['pattern']


def test_allowed_matrix(small_schema):
    m = small_schema.allowed_matrix()
    assert m.shape == (4, 18)
    tee, jeans, dress, unknown = m
    # tee: closure not listed -> not applicable
    assert not tee[6:10].any()
    assert tee[3:5].all() and not tee[5]
    # jeans: sleeve not applicable, only button/zip closures
    assert not jeans[3:6].any()
    assert jeans[6:8].all() and not jeans[8:10].any()
    # dress is not in 'allowed': everything allowed; so is an unknown
    # category (last row)
    assert dress.all() and unknown.all()
    assert small_schema.is_allowed('jeans', 'closure', 'zip')
    assert not small_schema.is_allowed('jeans', 'closure', 'elastic')
    assert small_schema.is_allowed(None, 'closure', 'elastic')


def test_roundtrip(tmp_path, small_schema):
    p = tmp_path / 's.json'
    small_schema.dump(str(p))
    again = AttributeSchema.load(str(p))
    assert again.to_dict() == small_schema.to_dict()
    assert np.array_equal(
        again.allowed_matrix(), small_schema.allowed_matrix()
    )


@pytest.mark.parametrize(
    'mutate, message',
    [
        (
            lambda d: d['attributes'].append(dict(d['attributes'][0])),
            'duplicate attribute',
        ),
        (lambda d: d['attributes'][1].update(values=[]), 'non-empty'),
        (lambda d: d['attributes'][1].update(values=['a', 'a']), 'duplicate'),
        (lambda d: d['attributes'][1].update(roi='tiny'), 'roi'),
        (lambda d: d['allowed'].update(socks={}), 'unknown category'),
        (lambda d: d['allowed']['tee'].update(fit=['x']), 'unknown attribute'),
        (
            lambda d: d['allowed']['tee'].update(sleeve=['cap']),
            'unknown values',
        ),
        (lambda d: d['attributes'][1].update(values=['?x']), 'unknown marker'),
    ],
)
def test_invalid_schema_is_rejected(small_schema_dict, mutate, message):
    mutate(small_schema_dict)
    with pytest.raises(SchemaError, match=message):
        AttributeSchema.from_dict(small_schema_dict, source='x.json')


def test_missing_file_names_path(tmp_path):
    with pytest.raises(SchemaError, match='nope.json'):
        AttributeSchema.load(str(tmp_path / 'nope.json'))


def test_category_branch_is_never_masked(small_schema):
    """Listing only a category's own value under 'category' must not leave
    the category branch without negatives."""
    m = small_schema.allowed_matrix()
    assert m[:, small_schema.slice('category')].all()
