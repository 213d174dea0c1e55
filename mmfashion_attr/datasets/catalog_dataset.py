"""Dataset for the catalog annotation format (see ``catalog_format.py``)."""

from __future__ import annotations

import os.path as osp
from typing import List, Sequence, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS

from ..structures import AttributeSchema
from .catalog_format import (
    CatalogFormatError,
    CatalogReadReport,
    EncodedRecord,
    read_catalog,
)


@DATASETS.register_module()
class CatalogDataset(BaseDataset):
    """Multi-attribute, multi-label fashion catalog dataset.

    Each sample yields ``img_path``, ``gt_attr`` and ``gt_attr_mask``
    (``uint8[num_values]``, see :mod:`..catalog_format`) and
    ``category_idx`` (``-1`` if the record has no category).

    Args:
        ann_file: A ``.jsonl`` or ``.csv`` catalog file.
        schema: The attribute schema: a JSON path (relative paths are looked
            up under ``data_root``), a dict or an :class:`AttributeSchema`.
        data_root: Root of ``ann_file``, ``schema`` and images.
        data_prefix: ``dict(img_path=...)``: folder the records' image paths
            are relative to. Defaults to ``data_root``.
        on_error: ``raise`` (default) stops at the first malformed record
            with its file and line; ``skip`` drops and counts them.
        pipeline: Data transforms.
        test_mode: Whether this is a test/val set.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(
        self,
        ann_file: str,
        schema: Union[str, dict, AttributeSchema],
        data_root: str = '',
        data_prefix: Union[str, dict] = '',
        on_error: str = 'raise',
        pipeline: Sequence = (),
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        if (
            isinstance(schema, str)
            and data_root
            and not osp.isabs(schema)
            and not osp.exists(schema)
        ):
            schema = osp.join(data_root, schema)
        self.schema = AttributeSchema.build(schema)
        self.on_error = on_error
        self.read_report = None
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        metainfo = dict(
            classes=[
                f'{a.name}/{v}'
                for a in self.schema.attributes
                for v in a.values
            ],
            attributes=self.schema.names,
            categories=list(self.schema.categories),
            schema=self.schema.to_dict(),
        )
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> List[dict]:
        records, report = read_catalog(
            self.ann_file, self.schema, on_error=self.on_error
        )
        return self.to_data_list(records, report)

    def to_data_list(
        self, records: List[EncodedRecord], report: CatalogReadReport
    ) -> List[dict]:
        """Log what the read skipped or masked; records -> data infos."""
        self.read_report = report
        if report.num_skipped:
            print_log(
                f'{report.path}: skipped {report.num_skipped} malformed '
                f'records; first: {report.errors[:3]}',
                logger='current',
                level=30,
            )
        if report.disallowed:
            total = sum(report.disallowed.values())
            print_log(
                f'{report.path}: {total} labelled values are not allowed '
                'for their category by the schema and are masked out of the '
                f'loss: {dict(list(report.disallowed.items())[:10])}',
                logger='current',
                level=30,
            )
        if not records:
            skipped = (
                f' ({report.num_skipped} malformed records skipped; first: '
                f'{report.errors[:3]})'
                if report.num_skipped
                else ''
            )
            raise CatalogFormatError(
                report.path, 0, f'no usable records{skipped}'
            )
        prefix = self.data_prefix.get('img_path', '') or self.data_root
        data_list = []
        for rec in records:
            img = rec.img_path
            if prefix and not osp.isabs(img):
                img = osp.join(prefix, img)
            data_list.append(
                dict(
                    img_path=img,
                    gt_attr=rec.gt_attr,
                    gt_attr_mask=rec.gt_attr_mask,
                    category_idx=rec.category_idx,
                )
            )
        return data_list

    def get_gt_attr(self, idx: int):
        """``(gt_attr, gt_attr_mask, category_idx)`` of a sample, without
        loading its image."""
        info = self.get_data_info(idx)
        return info['gt_attr'], info['gt_attr_mask'], info['category_idx']

    def extra_repr(self) -> List[str]:  # used by mmpretrain-style __repr__
        return [f'Schema: {self.schema}']

    def __repr__(self) -> str:
        n = len(self) if self._fully_initialized else 'not loaded'
        return (
            f'{self.__class__.__name__}(ann_file={self.ann_file!r}, '
            f'num_samples={n}, schema={self.schema})'
        )
