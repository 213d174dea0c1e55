"""Read a public dataset's own annotation files directly (no convert step).

The registered :class:`ConvertedDataset` runs a converter of
:mod:`mmfashion_attr.datasets.converters` when the dataset is built and
encodes its records like :class:`CatalogDataset`, so a config can point at
the downloaded files::

    dataset=dict(
        type='ConvertedDataset', format='fashionpedia-attr',
        data_root='data/fashionpedia/',
        sources=['train=instances/attributes_train2020.json',
                 'val=instances/attributes_val2020.json'],
        split='train', schema=schema_file,
        converter_options=dict(img_prefix=dict(train='train',
                                               val='test')))
"""

from __future__ import annotations

import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.logging import print_log
from mmpretrain.registry import DATASETS

from ..structures import AttributeSchema
from .catalog_dataset import CatalogDataset
from .catalog_format import encode_records
from .converters import (
    CONVERTERS,
    DEFAULT_MAX_REJECT_RATIO,
    conversion_problems,
    convert_sources,
    strip_private,
)


@DATASETS.register_module()
class ConvertedDataset(CatalogDataset):
    """A public dataset read from its original annotation files.

    Args:
        format: A key of ``CONVERTERS`` (``fashionpedia-attr``,
            ``fashionai``, ``imat2018``, ``deepfashion``,
            ``imat2020-attr``, ``catalog``). The instance formats need
            their crops written first: use
            ``tools/dataset_converters/convert.py`` and
            :class:`CatalogDataset`.
        sources: ``SPLIT=PATH`` strings (``deepfashion``: the root),
            relative to ``data_root``. List every split the converter needs
            (all splits are converted; ``split`` picks one).
        split: The split this dataset holds.
        schema: Schema path/dict; ``None`` uses the converter's schema.
            The model head must use the same schema (write it with
            ``tools/dataset_converters/convert.py ... --schema-only``).
        converter_options: Keyword arguments of the converter; relative
            ``label_map``/``ontology``/``schema`` paths are under
            ``data_root``, FashionAI image paths are made relative to it.
        data_root: Root of the sources and images.
        on_error: ``raise`` or ``skip`` (malformed records dropped and
            counted).
        max_reject_ratio: With ``skip``, the largest share of source
            items that may be dropped for errors; a larger share, or a
            split without records, is an error.
        **kwargs: Passed to :class:`CatalogDataset`.
    """

    def __init__(
        self,
        format: str,
        sources: Sequence[str],
        split: str = 'train',
        schema: Union[str, dict, AttributeSchema, None] = None,
        converter_options: Optional[dict] = None,
        data_root: str = '',
        on_error: str = 'raise',
        max_reject_ratio: float = DEFAULT_MAX_REJECT_RATIO,
        **kwargs,
    ) -> None:
        if format not in CONVERTERS:
            raise ValueError(
                f'ConvertedDataset: unknown format {format!r}; '
                f'known: {sorted(CONVERTERS)}'
            )
        opts = dict(converter_options or {})
        for key in ('label_map', 'ontology', 'schema'):
            if isinstance(opts.get(key), str):
                opts[key] = self._under(data_root, opts[key])
        if 'root' in CONVERTERS[format].options:  # images relative to it
            opts.setdefault('root', data_root or None)
        conv = convert_sources(
            format,
            [self._source(data_root, s) for s in sources],
            on_error='raise' if on_error == 'raise' else 'collect',
            **opts,
        )
        if conv.crops and any(conv.crops.values()):
            raise ValueError(
                f'ConvertedDataset: {format} needs its crops written; run '
                'tools/dataset_converters/convert.py and use CatalogDataset'
            )
        if split not in conv.splits:
            raise ValueError(
                f'ConvertedDataset: no split {split!r} in '
                f'{sorted(conv.splits)}'
            )
        problems = conversion_problems(conv, max_reject_ratio)
        if problems:
            raise ValueError(
                f'ConvertedDataset: {format} {sources}: ' + '; '.join(problems)
            )
        self.conversion_report = conv.report
        self._records = conv.splits[split]
        self.format, self.split = format, split
        super().__init__(
            ann_file='',
            schema=conv.schema if schema is None else schema,
            data_root=data_root,
            on_error=on_error,
            **kwargs,
        )

    @staticmethod
    def _under(root: str, path: str) -> str:
        if root and not osp.isabs(path):
            return osp.join(root, path)
        return path

    def _source(self, root: str, src: str) -> str:
        split, sep, path = src.partition('=')
        if not sep:
            return self._under(root, src)
        return f'{split}={self._under(root, path)}'

    def load_data_list(self) -> List[dict]:
        items = (
            (
                rec.get('_where', f'{self.format}/{self.split}'),
                i,
                strip_private(rec),
            )
            for i, rec in enumerate(self._records)
        )
        records, report = encode_records(
            self.schema,
            items,
            f'{self.format}/{self.split}',
            on_error=self.on_error,
        )
        n_conv = self.conversion_report.num_errors
        if n_conv:
            print_log(
                f'{self.format}/{self.split}: {n_conv} source errors were '
                f'skipped in conversion; first: '
                f'{self.conversion_report.errors[:3]}',
                logger='current',
                level=30,
            )
        return self.to_data_list(records, report)
