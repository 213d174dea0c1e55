"""Refuse to train or evaluate when model, data and checkpoint disagree on
the attribute schema."""

from __future__ import annotations

from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from ...structures import AttributeSchema


class SchemaMismatchError(ValueError):
    """Model, dataset or checkpoint were built for different schemas."""


def schema_layout(schema) -> dict:
    """What decides the meaning of each output and label entry: attribute
    names and their values in order, categories in order, allowed values."""
    schema = AttributeSchema.build(schema)
    return dict(
        attributes=[(a.name, list(a.values)) for a in schema.attributes],
        categories=list(schema.categories),
        allowed={
            c: {a: list(v) for a, v in per.items()}
            for c, per in (schema.allowed or {}).items()
        },
    )


def schema_differences(expected, actual) -> List[str]:
    """Human-readable differences between two schemas ([] if the same)."""
    a, b = schema_layout(expected), schema_layout(actual)
    out = []
    names_a = [n for n, _ in a['attributes']]
    names_b = [n for n, _ in b['attributes']]
    if names_a != names_b:
        missing = [n for n in names_a if n not in names_b]
        extra = [n for n in names_b if n not in names_a]
        out.append(
            f'attributes differ (missing {missing}, extra {extra}, '
            f'order {names_a} vs {names_b})'
        )
    for (n, va), (m, vb) in zip(a['attributes'], b['attributes']):
        if n == m and va != vb:
            out.append(f'values of {n!r} differ: {va} vs {vb}')
    if a['categories'] != b['categories']:
        out.append(
            f'categories differ: {a["categories"]} vs {b["categories"]}'
        )
    if a['allowed'] != b['allowed']:
        cats = sorted(set(a['allowed']) | set(b['allowed']))
        diff = [c for c in cats if a['allowed'].get(c) != b['allowed'].get(c)]
        out.append(f'allowed values differ for categories {diff}')
    return out


def model_schema(model) -> Optional[AttributeSchema]:
    """The schema of the model's head, if it has one."""
    if is_model_wrapper(model):
        model = model.module
    head = getattr(model, 'head', None)
    schema = getattr(head, 'schema', None)
    return schema if isinstance(schema, AttributeSchema) else None


@HOOKS.register_module()
class SchemaCheckHook(Hook):
    """Check that the head, the datasets and loaded checkpoints share the
    attribute schema.

    A head built from one ``schema.json`` and annotations encoded with
    another of the same size train and evaluate without any error, each
    output meaning another value: this hook makes that an error.

    * ``before_run``: the model head's schema against the ``schema`` in the
      metainfo of every dataset built for this run (train, val, test);
    * ``after_load_checkpoint`` (``load_from``, ``--resume``, ``test.py``):
      the checkpoint's ``meta.dataset_meta.schema`` against the head's,
      before the weights are applied. ``on_checkpoint_mismatch='warn'``
      allows fine-tuning from a checkpoint of another schema.

    Args:
        on_checkpoint_mismatch: ``'raise'`` (default) or ``'warn'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, on_checkpoint_mismatch: str = 'raise') -> None:
        if on_checkpoint_mismatch not in ('raise', 'warn'):
            raise ValueError(
                "on_checkpoint_mismatch must be 'raise' or "
                f"'warn', not {on_checkpoint_mismatch!r}"
            )
        self.on_checkpoint_mismatch = on_checkpoint_mismatch

    def before_run(self, runner) -> None:
        schema = model_schema(runner.model)
        if schema is None:
            return
        for phase in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{phase}_loop', None)
            if not isinstance(loop, BaseLoop):
                continue
            dataset = loop.dataloader.dataset
            meta = getattr(dataset, 'metainfo', None) or {}
            if 'schema' not in meta:
                continue
            diff = schema_differences(schema, meta['schema'])
            if diff:
                src = getattr(dataset, 'ann_file', type(dataset).__name__)
                raise SchemaMismatchError(
                    f'the {phase} dataset ({src}) was encoded with another '
                    f'schema than the model head ({schema.source}): '
                    + '; '.join(diff)
                )

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        schema = model_schema(runner.model)
        meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
        if schema is None or 'schema' not in meta:
            return
        diff = schema_differences(schema, meta['schema'])
        if not diff:
            return
        msg = (
            'the checkpoint was trained with another schema than the '
            f'model head ({schema.source}): ' + '; '.join(diff)
        )
        if self.on_checkpoint_mismatch == 'raise':
            raise SchemaMismatchError(
                msg + " (SchemaCheckHook(on_checkpoint_mismatch='warn') "
                'to fine-tune from it anyway)'
            )
        runner.logger.warning(msg)
