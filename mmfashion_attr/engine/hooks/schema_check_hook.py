"""Refuse to train or evaluate when model, data and checkpoint disagree on
the attribute schema, and save the schema into every checkpoint."""

from __future__ import annotations

import copy
import re
from typing import List, Mapping, Optional, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from ...structures import AttributeSchema

SchemaLike = Union[str, dict, AttributeSchema]
_BRANCH_KEY = re.compile(r'^head\.branches\.(\d+)\.')


class SchemaMismatchError(ValueError):
    """Model, dataset or checkpoint were built for different schemas."""


class MissingSchemaError(SchemaMismatchError):
    """A checkpoint with head weights carries no schema, and none was
    named: the meaning of its outputs is unknown."""


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


def saved_schema(checkpoint: Mapping) -> Optional[dict]:
    """The schema saved in a checkpoint (``meta.dataset_meta.schema``)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    dataset_meta = (meta or {}).get('dataset_meta') or {}
    return dataset_meta.get('schema')


def checkpoint_state(checkpoint: Mapping) -> Mapping:
    """The state dict of a checkpoint (``state_dict``, or the whole dict
    of a plain weight file), keys without DDP's ``module.`` prefix."""
    state = checkpoint.get('state_dict', checkpoint)
    return {
        (k[7:] if isinstance(k, str) and k.startswith('module.') else k): v
        for k, v in state.items()
    }


def shape_mismatches(model, state: Mapping) -> List[str]:
    """``'key: checkpoint (a, b) vs model (c, d)'`` for every entry whose
    shape differs (mmengine only warns about them and leaves the model's
    entry, e.g. a branch with an extra value, randomly initialised)."""
    if is_model_wrapper(model):
        model = model.module
    schema = model_schema(model)
    own = model.state_dict()
    out = []
    for key, value in state.items():
        if key not in own or not hasattr(value, 'shape'):
            continue
        if tuple(value.shape) == tuple(own[key].shape):
            continue
        where = ''
        m = _BRANCH_KEY.match(key)
        if schema is not None and m and int(m.group(1)) < len(schema.names):
            where = f' (attribute {schema.names[int(m.group(1))]!r})'
        out.append(
            f'{key}{where}: checkpoint {tuple(value.shape)} vs model '
            f'{tuple(own[key].shape)}'
        )
    return out


def check_checkpoint_schema(
    model,
    checkpoint: Mapping,
    source: str,
    named_schema: Optional[SchemaLike] = None,
) -> List[str]:
    """What makes a checkpoint's head mean something else than the model's.

    * with a saved schema: its differences from the model head's, and from
      ``named_schema`` if one is given too;
    * without one, when the checkpoint has head weights: the differences of
      ``named_schema`` from the head's; no named schema at all is a
      :class:`MissingSchemaError` (a plain ``{'state_dict': ...}`` says
      nothing about the order of its values);
    * always: the entries whose shapes differ (an extra or missing value).

    Args:
        model: The model (or its wrapper) with a ``MultiAttributeHead``.
        checkpoint: The loaded checkpoint dict.
        source: The file, for the messages.
        named_schema: The schema the user says the checkpoint was trained
            with.

    Returns:
        The problems ([] if none).

    Raises:
        MissingSchemaError: No saved and no named schema, and head weights.
    """
    schema = model_schema(model)
    state = checkpoint_state(checkpoint)
    problems: List[str] = []
    saved = saved_schema(checkpoint)
    named = (
        None if named_schema is None else AttributeSchema.build(named_schema)
    )
    if schema is not None:
        if saved is not None:
            problems += [
                f'checkpoint vs model head: {d}'
                for d in schema_differences(schema, saved)
            ]
            if named is not None:
                problems += [
                    f'checkpoint vs the named schema ({named.source}): {d}'
                    for d in schema_differences(named, saved)
                ]
        elif any(str(k).startswith('head.') for k in state):
            if named is None:
                raise MissingSchemaError(
                    f'{source}: the checkpoint carries no attribute schema '
                    '(meta.dataset_meta.schema), so the meaning of its head '
                    'outputs is unknown. Name the schema it was trained '
                    'with: `--cfg-options checkpoint_schema=SCHEMA.json` '
                    '(train.py / test.py), `--schema SCHEMA.json` '
                    '(infer.py, export_onnx.py, visualize_cam.py) or '
                    '`schema=` (AttributeExtractor, init_attribute_model)'
                )
            problems += [
                f'named schema ({named.source}) vs model head: {d}'
                for d in schema_differences(schema, named)
            ]
    problems += [f'shape mismatch {m}' for m in shape_mismatches(model, state)]
    return problems


def add_schema_to_checkpoint(model, checkpoint: dict) -> None:
    """Put the model head's schema into ``checkpoint['meta']`` as
    ``dataset_meta.schema`` (where mmengine saves the training dataset's
    metainfo) unless one is there already."""
    schema = model_schema(model)
    if schema is None:
        return
    meta = checkpoint.setdefault('meta', {})
    dataset_meta = meta.get('dataset_meta')
    dataset_meta = dict(dataset_meta) if dataset_meta else {}
    if 'schema' not in dataset_meta:
        dataset_meta['schema'] = copy.deepcopy(schema.to_dict())
        meta['dataset_meta'] = dataset_meta


@HOOKS.register_module()
class SchemaCheckHook(Hook):
    """Check that the head, the datasets and loaded checkpoints share the
    attribute schema, and save the schema into every checkpoint.

    A head built from one ``schema.json`` and annotations encoded with
    another of the same size train and evaluate without any error, each
    output meaning another value: this hook makes that an error.

    * ``before_run``: the model head's schema against the ``schema`` in the
      metainfo of every dataset built for this run (train, val, test);
    * ``after_load_checkpoint`` (``load_from``, ``--resume``, ``test.py``),
      before the weights are applied: the checkpoint's
      ``meta.dataset_meta.schema`` against the head's. A checkpoint without
      a saved schema but with head weights (e.g. a plain
      ``{'state_dict': ...}``) needs the schema it was trained with named
      (``checkpoint_schema``), which is then compared with the head's.
      Entries whose shapes differ (a value more or less) are refused too,
      instead of mmengine's size warning that leaves them randomly
      initialised. ``on_checkpoint_mismatch='warn'`` allows fine-tuning
      from a checkpoint of another schema;
    * ``before_save_checkpoint``: the head's schema goes into the
      checkpoint's ``meta.dataset_meta.schema`` when the training dataset
      did not put one there, so every checkpoint written by a run carries
      it.

    Args:
        on_checkpoint_mismatch: ``'raise'`` (default) or ``'warn'``.
        checkpoint_schema: The schema (path or dict) loaded checkpoints
            without a saved one were trained with. Defaults to the config's
            top-level ``checkpoint_schema`` (``--cfg-options
            checkpoint_schema=SCHEMA.json``), else None.
    """

    priority = 'VERY_HIGH'

    def __init__(
        self,
        on_checkpoint_mismatch: str = 'raise',
        checkpoint_schema: Optional[SchemaLike] = None,
    ) -> None:
        if on_checkpoint_mismatch not in ('raise', 'warn'):
            raise ValueError(
                "on_checkpoint_mismatch must be 'raise' or "
                f"'warn', not {on_checkpoint_mismatch!r}"
            )
        self.on_checkpoint_mismatch = on_checkpoint_mismatch
        self.checkpoint_schema = checkpoint_schema

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

    def _named_schema(self, runner) -> Optional[SchemaLike]:
        if self.checkpoint_schema is not None:
            return self.checkpoint_schema
        cfg = getattr(runner, 'cfg', None)
        return cfg.get('checkpoint_schema') if cfg is not None else None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if model_schema(runner.model) is None:
            return
        source = (
            runner._load_from
            or getattr(runner, '_resume_from', None)
            or 'the checkpoint'
        )
        try:
            problems = check_checkpoint_schema(
                runner.model, checkpoint, source, self._named_schema(runner)
            )
        except MissingSchemaError as e:
            if self.on_checkpoint_mismatch == 'raise':
                raise
            runner.logger.warning(str(e))
            return
        if not problems:
            return
        msg = (
            f'{source}: the checkpoint does not match the model head '
            f'({model_schema(runner.model).source}): ' + '; '.join(problems)
        )
        if self.on_checkpoint_mismatch == 'raise':
            raise SchemaMismatchError(
                msg + " (SchemaCheckHook(on_checkpoint_mismatch='warn') "
                'to fine-tune from it anyway)'
            )
        runner.logger.warning(msg)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        add_schema_to_checkpoint(runner.model, checkpoint)
