"""The table of converters: dispatch, required options, unknown formats,
and the one catalog writer shared with the synthetic generator."""

import json

import pytest

from mmfashion_attr.datasets import read_catalog, write_catalog
from mmfashion_attr.datasets.converters import (
    CONVERTERS,
    ConversionError,
    ConverterSpec,
    convert_catalog,
    convert_sources,
    converter_options,
    default_img_root,
    formats,
    get_converter,
    register_converter,
    write_conversion,
)
from mmfashion_attr.structures import AttributeSchema


def test_every_format_has_a_spec():
    assert sorted(CONVERTERS) == [
        'catalog',
        'deepfashion',
        'fashionai',
        'fashionpedia-attr',
        'fashionpedia-inst',
        'imat2018',
        'imat2020-attr',
        'imat2020-inst',
    ]
    assert set(formats()) == set(CONVERTERS)
    for name, spec in CONVERTERS.items():
        assert callable(spec.convert) and spec.description, name
        assert set(spec.required) <= set(spec.options), name


@pytest.mark.parametrize('fmt', ['imat2019', 'iMaterialist2018', '', 'x'])
def test_unknown_format_is_an_error(fmt):
    with pytest.raises(ConversionError, match='unknown format') as e:
        convert_sources(fmt, ['train=a.json'], label_map='m.csv')
    for name in CONVERTERS:  # the message lists the known ones
        assert name in str(e.value)
    with pytest.raises(ConversionError, match='unknown format'):
        get_converter(fmt)


def test_required_options_and_source_shapes(tmp_path):
    with pytest.raises(ConversionError, match='imat2018: the label map'):
        convert_sources('imat2018', ['train=a.json'])
    with pytest.raises(ConversionError, match='catalog: a schema'):
        convert_sources('catalog', ['train=a.jsonl'])
    for fmt in ('imat2020-attr', 'imat2020-inst'):
        with pytest.raises(ConversionError, match=f'{fmt}: the Kaggle'):
            convert_sources(fmt, ['train=train.csv'])
    with pytest.raises(ConversionError, match='no source'):
        convert_sources('catalog', [], schema={})
    with pytest.raises(ConversionError, match='only source'):
        convert_sources('deepfashion', ['a', 'b'])
    with pytest.raises(ConversionError, match='one file per split'):
        convert_sources(
            'catalog', ['train=a.jsonl', 'train=b.jsonl'], schema={}
        )
    assert default_img_root('deepfashion', ['data/df']) == 'data/df'
    assert default_img_root('catalog', [f'train={tmp_path}/t.jsonl']) == str(
        tmp_path
    )


def test_options_are_picked_per_format():
    values = dict(
        schema='s.json',
        label_map=None,
        keep_empty=True,
        margin=0.2,
        root='imgs',
        progress=False,
    )
    assert converter_options('catalog', values) == dict(schema='s.json')
    assert converter_options('imat2018', values) == dict(
        keep_empty=True, progress=False
    )
    assert converter_options('fashionpedia-inst', values) == dict(
        margin=0.2, progress=False
    )
    assert converter_options('fashionai', values) == dict(
        root='imgs', progress=False
    )


def test_a_registered_format_is_dispatched(tmp_path, small_schema_dict):
    calls = []

    def convert_upper(files, on_error='raise', **options):
        calls.append((files, on_error, options))
        return convert_catalog(files, small_schema_dict, on_error=on_error)

    (tmp_path / 't.jsonl').write_text(
        json.dumps(dict(img_path='a.jpg', attributes={})) + '\n'
    )
    register_converter('test-upper', ConverterSpec(convert_upper, 'test'))
    try:
        with pytest.raises(KeyError, match='already registered'):
            register_converter('test-upper', ConverterSpec(convert_upper, ''))
        conv = convert_sources(
            'test-upper', [f'train={tmp_path}/t.jsonl'], on_error='collect'
        )
    finally:
        del CONVERTERS['test-upper']
    assert calls == [({'train': f'{tmp_path}/t.jsonl'}, 'collect', {})]
    assert len(conv.splits['train']) == 1


def test_one_catalog_writer(tmp_path, small_schema_dict, monkeypatch):
    """The converters' and the synthetic generator's files come from
    write_catalog, and read back."""
    from mmfashion_attr.datasets.converters import base
    from mmfashion_attr.datasets.synthetic import (
        make_synthetic_dataset,
        writer,
    )

    records = [
        dict(img_path='a.jpg', category='tee', attributes={'sleeve': []}),
        dict(img_path='b.jpg', attributes={'colour': ['red', '?blue']}),
    ]
    written = write_catalog(
        str(tmp_path / 'w'), small_schema_dict, {'train': records}
    )
    assert set(written) == {'schema', 'train'}
    schema = AttributeSchema.load(written['schema'])
    encoded, report = read_catalog(written['train'], schema)
    assert len(encoded) == 2 and report.num_skipped == 0

    seen = []

    def spy(out_dir, schema, record_files):
        seen.append(sorted(record_files))
        return write_catalog(out_dir, schema, record_files)

    monkeypatch.setattr(base, 'write_catalog', spy)
    monkeypatch.setattr(writer, 'write_catalog', spy)
    conv = convert_catalog(
        {'train': written['train']}, written['schema'], on_error='raise'
    )
    write_conversion(conv, str(tmp_path / 'c'), progress=False)
    make_synthetic_dataset(str(tmp_path / 's'), num=3, img_size=32)
    assert seen == [['train'], ['full_labels', 'train', 'val']]
