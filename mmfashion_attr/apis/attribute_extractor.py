"""Images in, attributes with confidences out.

mmpretrain's ``ImageClassificationInferencer`` takes an argmax of
``pred_score`` (it fails on a multi-task model and never applies
thresholds). :class:`AttributeExtractor` is the inferencer for the
multi-task multi-label model of Parekh & Shaik (VISAPP 2023): it thresholds
every value (0.3 as in the paper, or per attribute / per value from
``tools/tune_thresholds.py``), applies the schema's category mask and says
explicitly when an attribute has no value above its threshold.
"""

from __future__ import annotations

import copy
import io
import os
import warnings
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Union,
)

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.fileio import get as get_bytes
from mmengine.model import BaseModel
from mmengine.registry import INFERENCERS, DefaultScope
from mmpretrain.apis import BaseInferencer
from mmpretrain.registry import MODELS, TRANSFORMS

from ..evaluation.metrics.attribute_metric import threshold_vector
from ..schema import AttributeSchema
from .safe_load import load_checkpoint_safely

# str / PathLike / ndarray / bytes / PIL.Image.Image
ImageInput = Any
Inputs = Union[ImageInput, Sequence[ImageInput]]
Categories = Union[None, str, Sequence[Optional[str]]]


def read_checkpoint(checkpoint: str) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``.

    A local path goes to :func:`.safe_load.load_checkpoint_safely`; any
    other mmengine file backend URI (``http(s)://`` ...) is fetched as bytes
    and unpickled the same way. Explicit ``weights_only=True``, so
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot turn it off; mmengine
    training checkpoints load thanks to the allow-list of
    :func:`mmfashion_attr.compat.allow_mmengine_checkpoint_globals`.

    Raises:
        pickle.UnpicklingError: The file holds objects outside the
            allow-list (``UnsafeCheckpointError``).
    """
    if os.path.isfile(os.path.expanduser(checkpoint)):
        return load_checkpoint_safely(checkpoint, map_location='cpu')
    return load_checkpoint_safely(
        io.BytesIO(get_bytes(checkpoint)), map_location='cpu'
    )


def init_attribute_model(
    config: Union[str, os.PathLike, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = 'cpu',
) -> BaseModel:
    """Build the model of a config and load a checkpoint (strictly).

    The schema saved in the checkpoint (``meta.dataset_meta.schema``, which
    mmengine writes from the dataset) replaces the config's when present:
    it is the one the weights were trained with, and the config's schema
    file need not exist on the serving machine.
    """
    cfg = (
        copy.deepcopy(config)
        if isinstance(config, Config)
        else Config.fromfile(os.fspath(config))
    )
    ckpt = read_checkpoint(checkpoint) if checkpoint else None
    meta = (ckpt or {}).get('meta') or {}
    dataset_meta = dict(meta.get('dataset_meta') or {})
    saved = dataset_meta.get('schema')
    if saved is not None:
        configured = cfg.model.head.get('schema')
        if (
            isinstance(configured, str)
            and os.path.isfile(configured)
            and AttributeSchema.load(configured).to_dict()
            != AttributeSchema.from_dict(saved).to_dict()
        ):
            warnings.warn(
                f'{configured} differs from the schema saved in '
                f"{checkpoint}; using the checkpoint's"
            )
        cfg.model.head.schema = saved
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    if ckpt is not None:
        state = ckpt.get('state_dict', ckpt)
        state = {
            k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()
        }
        model.load_state_dict(state, strict=True)
    model._config = cfg
    model._dataset_meta = dataset_meta
    model._metainfo = None
    return model.to(device).eval()


def load_image(item: ImageInput) -> np.ndarray:
    """An input as a ``uint8`` BGR ``H x W x 3`` array (mmcv's order).

    Args:
        item: A file path (or any mmengine file backend URI), encoded image
            bytes, a ``PIL.Image`` (any mode; converted to RGB, then BGR)
            or an array: ``H x W x 3`` **BGR** as read by ``cv2`` / ``mmcv``,
            ``H x W`` grey or ``H x W x 4`` BGRA.
    """
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        if '://' not in path and not os.path.isfile(path):
            raise FileNotFoundError(f'{path}: no such file')
        item = get_bytes(path)
    if isinstance(item, (bytes, bytearray, memoryview)):
        img = mmcv.imfrombytes(bytes(item), flag='color', backend='cv2')
        if img is None:
            raise ValueError('not a decodable image')
        return img
    if type(item).__module__.startswith('PIL.'):
        return np.ascontiguousarray(np.asarray(item.convert('RGB'))[..., ::-1])
    if isinstance(item, np.ndarray):
        img = item
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        elif img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]
        if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
            raise ValueError(
                f'expected an H x W x 3 BGR array, got shape {item.shape}'
            )
        if img.dtype != np.uint8:
            raise ValueError(f'expected a uint8 array, got {img.dtype}')
        return np.ascontiguousarray(img)
    raise TypeError(f'unsupported input type {type(item).__name__}')


def describe_input(item: Any, index: int) -> str:
    """A short name of an input for the output records."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return f'<{type(item).__name__} #{index}>'


@INFERENCERS.register_module()
class AttributeExtractor(BaseInferencer):
    """Fashion attribute extractor: thresholds, category masks, abstention.

    Subclass of mmpretrain's ``BaseInferencer`` (same ``__call__`` style)
    registered in mmengine's ``INFERENCERS`` registry (mmpretrain 1.2.0 has
    none of its own), so ``INFERENCERS.build(dict(type='AttributeExtractor',
    config=..., checkpoint=...))`` works next to the other OpenMMLab
    inferencers. Checkpoints are read with ``weights_only=True``.

    Each image gives::

        {"input": "img/0001.jpg", "category": "t-shirt",
         "attributes": {"sleeve_length": [{"value": "short", "score": 0.91}],
                        "colour": [{"value": "red", "score": 0.88},
                                   {"value": "white", "score": 0.42}],
                        "closure": []},
         "abstained": ["closure"],
         "not_applicable": ["rise"]}

    Values are those whose score reaches their threshold, by decreasing
    score. ``abstained`` lists the attributes where no value passed (their
    list is empty); ``not_applicable`` those the schema rules out for the
    given category (absent from ``attributes``). A failed input gives
    ``{"input": ..., "error": "..."}`` and the others go on.

    Args:
        config: Config path, :class:`Config`, or a built model.
        checkpoint: Checkpoint path or URI. Defaults to None (the model's
            current / random weights).
        device: Device to run on. Defaults to ``cpu``.
        thresholds: A float, a dict or a JSON file of
            ``tools/tune_thresholds.py``. Defaults to the head's threshold
            (0.3, the paper's).
        batch_size: Images per forward pass. Defaults to 8.
        use_category_mask: Suppress values the schema does not allow for
            the given category. Defaults to True.
        return_scores: Add ``scores`` (every allowed value's score, by
            attribute) to each result. Defaults to False.
    """

    def __init__(
        self,
        config: Union[str, os.PathLike, Config, BaseModel],
        checkpoint: Optional[str] = None,
        device: Union[str, torch.device] = 'cpu',
        thresholds: Union[None, float, str, dict] = None,
        batch_size: int = 8,
        use_category_mask: bool = True,
        return_scores: bool = False,
    ) -> None:
        if isinstance(config, BaseModel):
            model = config
            if not hasattr(model, '_config'):
                raise ValueError(
                    'a model passed as `config` needs its config '
                    'in `model._config` (init_attribute_model '
                    'sets it)'
                )
            if checkpoint:
                state = read_checkpoint(checkpoint)
                model.load_state_dict(state.get('state_dict', state))
        else:
            model = init_attribute_model(config, checkpoint, device)
        super().__init__(model=model, pretrained=False, device=device)
        self.schema: AttributeSchema = self.model.head.schema
        if thresholds is None:
            thresholds = float(getattr(self.model.head, 'threshold', 0.3))
        self.thresholds = thresholds
        self.threshold_vector = threshold_vector(self.schema, thresholds)
        self.batch_size = int(batch_size)
        self.use_category_mask = use_category_mask
        self.return_scores = return_scores
        self.allowed = self.schema.allowed_matrix()

    # ----------------------------------------------------------- pipeline
    def _init_pipeline(self, cfg: Config) -> Callable:
        from mmpretrain.datasets import remove_transform

        if 'test_dataloader' in cfg:
            pipeline = cfg.test_dataloader.dataset.pipeline
        else:
            pipeline = cfg.test_pipeline
        pipeline = remove_transform(pipeline, 'LoadImageFromFile')
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            return Compose([TRANSFORMS.build(t) for t in pipeline])

    def _category_index(self, category: Optional[str]) -> int:
        if category is None or category == '':
            return -1
        try:
            return self.schema.category_index(category)
        except KeyError:
            raise ValueError(
                f'unknown category {category!r} (schema categories: '
                f'{self.schema.categories})'
            ) from None

    def prepare(
        self, item: ImageInput, category: Optional[str] = None
    ) -> dict:
        """Load one input and run the test pipeline on it."""
        img = load_image(item)
        results = dict(
            img=img,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2],
            category_idx=self._category_index(category),
        )
        if isinstance(item, (str, os.PathLike)):
            results['img_path'] = os.fspath(item)
        return self.pipeline(results)

    # ----------------------------------------------------------- running
    def __call__(
        self,
        inputs: Inputs,
        categories: Categories = None,
        batch_size: Optional[int] = None,
        return_datasamples: bool = False,
    ) -> List[Any]:
        """Extract attributes of one or several images.

        Args:
            inputs: An image (path, array, ``PIL.Image``, bytes) or a list;
                a folder path is expanded to its files.
            categories: The product category of every image (one name
                for all, or one per input; None: unknown, no mask).
            batch_size: Defaults to the constructor's.
            return_datasamples: Return the model's ``DataSample`` objects
                (with ``pred_score``) instead of dicts.

        Returns:
            One result per input, in order (see the class docstring).
        """
        out: List[Any] = []
        for batch in self.iter_results(
            inputs, categories, batch_size, return_datasamples
        ):
            out.extend(batch)
        return out

    def iter_results(
        self,
        inputs: Inputs,
        categories: Categories = None,
        batch_size: Optional[int] = None,
        return_datasamples: bool = False,
    ) -> Iterator[List[Any]]:
        """Like :meth:`__call__`, yielding the results batch by batch."""
        items = self._inputs_to_list(inputs)
        if categories is None or isinstance(categories, str):
            categories = [categories] * len(items)
        elif len(categories) != len(items):
            raise ValueError(
                f'{len(categories)} categories for {len(items)} inputs'
            )
        size = batch_size or self.batch_size
        for start in range(0, len(items), size):
            chunk = range(start, min(start + size, len(items)))
            yield self._run_batch(
                [(i, items[i], categories[i]) for i in chunk],
                return_datasamples,
            )

    def _run_batch(self, batch, return_datasamples: bool) -> List[Any]:
        results: List[Any] = [None] * len(batch)
        packed, where = [], []
        for k, (i, item, cat) in enumerate(batch):
            try:
                packed.append(self.prepare(item, cat))
                where.append(k)
            except Exception as e:  # one bad input must not stop the run
                results[k] = self._error(item, i, e)
        if not packed:
            return results
        try:
            preds = self._forward(packed)
        except Exception:  # find the culprit: one image at a time
            preds = []
            for k, p in zip(where, packed):
                try:
                    preds.append(self._forward([p])[0])
                except Exception as e:
                    i, item, _ = batch[k]
                    preds.append(self._error(item, i, e))
        for k, pred in zip(where, preds):
            i, item, cat = batch[k]
            if isinstance(pred, dict) or return_datasamples:
                results[k] = pred
            else:
                scores = pred.pred_score.detach().float().cpu().numpy()
                results[k] = dict(
                    input=describe_input(item, i), **self.decode(scores, cat)
                )
        return results

    def _forward(self, packed: List[dict]) -> list:
        with torch.no_grad():
            return self.model.test_step(default_collate(packed))

    @staticmethod
    def _error(item, index: int, e: Exception) -> dict:
        return dict(
            input=describe_input(item, index), error=f'{type(e).__name__}: {e}'
        )

    def decode(
        self, scores: np.ndarray, category: Optional[str] = None
    ) -> Dict[str, Any]:
        """Turn one image's flat scores into the output record."""
        cat_idx = self._category_index(category)
        allowed = (
            self.allowed[cat_idx]
            if self.use_category_mask
            else np.ones(self.schema.num_values, bool)
        )
        thr = self.threshold_vector
        attributes, abstained, not_applicable, all_scores = {}, [], [], {}
        for i, a in enumerate(self.schema.attributes):
            sl = self.schema.slice(i)
            ok = allowed[sl]
            if not ok.any():
                not_applicable.append(a.name)
                continue
            s = scores[sl]
            chosen = [
                dict(value=v, score=float(s[j]))
                for j, v in enumerate(a.values)
                if ok[j] and s[j] >= thr[sl.start + j]
            ]
            chosen.sort(key=lambda d: -d['score'])
            attributes[a.name] = chosen
            if not chosen:
                abstained.append(a.name)
            if self.return_scores:
                all_scores[a.name] = {
                    v: float(s[j]) for j, v in enumerate(a.values) if ok[j]
                }
        out = dict(
            category=category,
            attributes=attributes,
            abstained=abstained,
            not_applicable=not_applicable,
        )
        if self.return_scores:
            out['scores'] = all_scores
        return out

    # mmpretrain's BaseInferencer interface
    def visualize(self, inputs, preds, **kwargs):  # noqa: D102
        return None

    def postprocess(
        self, preds, visualization, return_datasamples=False, **kwargs
    ):  # noqa: D102
        if return_datasamples:
            return preds
        return [self.decode(p.pred_score.float().cpu().numpy()) for p in preds]

    @staticmethod
    def list_models(pattern: Optional[str] = None) -> List[str]:
        """No model zoo: build from a config and checkpoint."""
        return []
