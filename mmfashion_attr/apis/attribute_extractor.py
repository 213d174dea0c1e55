"""Images in, attributes with confidences out.

mmpretrain's ``ImageClassificationInferencer`` takes an argmax of
``pred_score`` (it fails on a multi-task model and never applies
thresholds). :class:`AttributeExtractor` is the inferencer for the
multi-task multi-label model of Parekh & Shaik (VISAPP 2023): it thresholds
every value (0.3 as in the paper, or per attribute / per value from
``tools/analysis_tools/tune_thresholds.py``), applies the schema's category
mask and says explicitly when an attribute has no value above its
threshold.
"""

from __future__ import annotations

import copy
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
    Tuple,
    Union,
)

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.model import BaseModel
from mmengine.registry import INFERENCERS, DefaultScope
from mmpretrain.apis import BaseInferencer
from mmpretrain.registry import MODELS, TRANSFORMS

from ..datasets.transforms.load_image_tolerant import SafeLoadImage
from ..engine.hooks.schema_check_hook import (
    SchemaMismatchError,
    check_checkpoint_schema,
    checkpoint_state,
    saved_schema,
    schema_differences,
)
from ..evaluation.thresholds import threshold_vector
from ..structures import AttributeSchema
from ..utils.checkpoint import load_checkpoint_safely
from ..utils.misc import get_test_pipeline_cfg

# The loading transforms of a test pipeline that the extractor replaces by
# its own loader (the same decoding path, refusals raised per input).
LOADING_TRANSFORMS = ('LoadImageFromFile', 'SafeLoadImage')

# str / PathLike / ndarray / bytes / PIL.Image.Image
ImageInput = Any
Inputs = Union[ImageInput, Sequence[ImageInput]]
Categories = Union[None, str, Sequence[Optional[str]]]


def read_checkpoint(checkpoint: str) -> dict:
    """Read a checkpoint (path or URI) onto the CPU with
    :func:`mmfashion_attr.utils.checkpoint.load_checkpoint_safely`.

    Raises:
        pickle.UnpicklingError: The file holds objects outside the
            allow-list (``UnsafeCheckpointError``).
    """
    return load_checkpoint_safely(checkpoint, map_location='cpu')


def init_attribute_model(
    config: Union[str, os.PathLike, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = 'cpu',
    schema: Union[None, str, dict, AttributeSchema] = None,
) -> BaseModel:
    """Build the model of a config and load a checkpoint (strictly).

    The schema saved in the checkpoint (``meta.dataset_meta.schema``, which
    every training checkpoint carries) replaces the config's: it is the one
    the weights were trained with, and the config's schema file need not
    exist on the serving machine. A checkpoint without a saved schema (a
    plain ``{'state_dict': ...}``) says nothing about the order of its
    values, so the schema it was trained with must be named (``schema``);
    the config's is not trusted for it.

    Args:
        config: Config path or :class:`Config`.
        checkpoint: Checkpoint path or URI. None: random weights.
        device: Device to put the model on.
        schema: The schema the checkpoint was trained with (path, dict or
            :class:`AttributeSchema`). Required for a checkpoint without a
            saved one; compared with the saved one otherwise.

    Raises:
        MissingSchemaError: The checkpoint has no saved schema and
            ``schema`` is None.
        SchemaMismatchError: ``schema`` differs from the saved one, or
            entries of the checkpoint have other shapes than the model's
            (an extra or missing value).
    """
    cfg = (
        copy.deepcopy(config)
        if isinstance(config, Config)
        else Config.fromfile(os.fspath(config))
    )
    ckpt = read_checkpoint(checkpoint) if checkpoint else None
    meta = (ckpt or {}).get('meta') or {}
    dataset_meta = dict(meta.get('dataset_meta') or {})
    saved = saved_schema(ckpt) if ckpt is not None else None
    named = None if schema is None else AttributeSchema.build(schema)
    if saved is not None:
        configured = cfg.model.head.get('schema')
        if (
            named is None
            and isinstance(configured, str)
            and os.path.isfile(configured)
            and schema_differences(AttributeSchema.load(configured), saved)
        ):
            warnings.warn(
                f'{configured} differs from the schema saved in '
                f"{checkpoint}; using the checkpoint's"
            )
        cfg.model.head.schema = saved
    elif named is not None:
        cfg.model.head.schema = named.to_dict()
        dataset_meta['schema'] = named.to_dict()
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    if ckpt is not None:
        load_attribute_weights(model, ckpt, checkpoint, named)
    model._config = cfg
    model._dataset_meta = dataset_meta
    model._metainfo = None
    return model.to(device).eval()


def load_attribute_weights(
    model: BaseModel,
    checkpoint: dict,
    source: str,
    schema: Union[None, str, dict, AttributeSchema] = None,
) -> None:
    """Load a checkpoint's weights strictly, after
    :func:`~mmfashion_attr.engine.hooks.schema_check_hook.check_checkpoint_schema`.

    Raises:
        MissingSchemaError: No saved schema, none named.
        SchemaMismatchError: The schemas or the shapes differ.
    """
    problems = check_checkpoint_schema(model, checkpoint, source, schema)
    if problems:
        raise SchemaMismatchError(
            f'{source}: the checkpoint does not match the model: '
            + '; '.join(problems)
        )
    model.load_state_dict(checkpoint_state(checkpoint), strict=True)


def load_image(item: ImageInput) -> np.ndarray:
    """An input as a ``uint8`` BGR ``H x W x 3`` array (mmcv's order),
    read and converted as :class:`SafeLoadImage` does with its defaults.

    Args:
        item: A file path (or any mmengine file backend URI), encoded image
            bytes, a ``PIL.Image`` (any mode) or an array: ``H x W x 3``
            **BGR** as read by ``cv2`` / ``mmcv``, ``H x W`` grey or
            ``H x W x 4`` BGRA (composited onto white).

    Raises:
        BadImageError: The input cannot be used, with the reason.
    """
    return SafeLoadImage(on_error='raise').load_input(item)[0]


def describe_input(item: Any, index: int) -> str:
    """A short name of an input for the output records."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return f'<{type(item).__name__} #{index}>'


# One input of a batch: (index, input, category, packed data or the error).
BatchItem = Tuple[int, Any, Optional[str], Any]


@INFERENCERS.register_module()
class AttributeExtractor(BaseInferencer):
    """Fashion attribute extractor: thresholds, category masks, abstention.

    An mmpretrain ``BaseInferencer`` registered in mmengine's ``INFERENCERS``
    registry (mmpretrain 1.2.0 has none of its own), so
    ``INFERENCERS.build(dict(type='AttributeExtractor', config=...,
    checkpoint=...))`` works next to the other OpenMMLab inferencers. It
    runs the base class's steps: :meth:`preprocess` (load, test pipeline,
    batch), :meth:`forward` (``model.test_step``), :meth:`visualize`
    (prediction pictures, with ``draw=True``) and :meth:`postprocess`
    (thresholds, category mask, records). Checkpoints are read with
    ``weights_only=True``.

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

    Every input (path, bytes, ``PIL.Image``, array) is read and decoded as
    the config's test pipeline loads images (its ``SafeLoadImage``
    settings: regular files only, byte and pixel caps, format allow-list,
    EXIF orientation, transparency on white, reduced JPEG decoding), and
    an image that pipeline would refuse is an error record, never a
    placeholder that gets scored.

    Args:
        config: Config path, :class:`Config`, or a built model.
        checkpoint: Checkpoint path or URI. Defaults to None (the model's
            current / random weights).
        device: Device to run on. Defaults to ``cpu``.
        thresholds: A float, a dict or a JSON file of
            ``tools/analysis_tools/tune_thresholds.py``. Defaults to the
            head's threshold (0.3, the paper's).
        batch_size: Images per forward pass. Defaults to 8.
        use_category_mask: Suppress values the schema does not allow for
            the given category. Defaults to True.
        return_scores: Add ``scores`` (every allowed value's score, by
            attribute) to each result. Defaults to False.
        schema: The schema the checkpoint was trained with; required for a
            checkpoint without a saved schema (see
            :func:`init_attribute_model`).
        backend: How the network runs: ``'eager'`` (the model's
            ``test_step``, the default), ``'compile'`` (``torch.compile``;
            CUDA graphs through ``mode='reduce-overhead'`` on a GPU),
            ``'cuda_graph'`` (CUDA graphs captured by hand, a CUDA device
            only), ``'onnxruntime'`` (the exported graph in ONNX Runtime:
            TensorRT / CUDA execution providers on a GPU when installed) or
            ``'auto'`` (``'cuda_graph'`` on a CUDA device, falling back to
            eager with a warning when it cannot be used; eager on the
            CPU). Every backend but eager is checked against eager float32
            PyTorch at construction, and at the first batch of each new
            size: scores must agree within ``tolerance`` (1e-3 by default)
            or a ``BackendMismatchError`` is raised. See
            :mod:`mmfashion_attr.apis.inference_backends`.
        backend_cfg: Options of the backend (``tolerance``,
            ``compile_cfg``, ``onnx_file``, ``threads``, ``providers``,
            ...). Defaults to None.
    """

    preprocess_kwargs = {'categories'}
    forward_kwargs: set = set()
    visualize_kwargs = {'show', 'draw', 'ground_truth', 'max_size'}
    postprocess_kwargs: set = set()

    def __init__(
        self,
        config: Union[str, os.PathLike, Config, BaseModel],
        checkpoint: Optional[str] = None,
        device: Union[str, torch.device] = 'cpu',
        thresholds: Union[None, float, str, dict] = None,
        batch_size: int = 8,
        use_category_mask: bool = True,
        return_scores: bool = False,
        schema: Union[None, str, dict, AttributeSchema] = None,
        backend: str = 'eager',
        backend_cfg: Optional[dict] = None,
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
                load_attribute_weights(
                    model, read_checkpoint(checkpoint), checkpoint, schema
                )
        else:
            model = init_attribute_model(config, checkpoint, device, schema)
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
        self.backend_name, self.backend = self._build_backend(
            backend, dict(backend_cfg or {})
        )

    # ------------------------------------------------------------ backend
    def _build_backend(self, name: str, cfg: dict):
        """``(name, backend)`` of the requested backend; ``backend`` is
        None for eager."""
        from .inference_backends import build_inference_backend
        from .onnx_export import input_size

        device = next(self.model.parameters()).device
        if name == 'auto':
            if device.type != 'cuda':
                return 'eager', None
            try:
                return self._build_backend('cuda_graph', cfg)
            except Exception as e:  # e.g. an op that cannot be captured
                warnings.warn(f'cuda_graph backend not used ({e}): eager')
                return 'eager', None
        if name == 'eager':
            return 'eager', None
        sizes = sorted({1, self.batch_size})
        cfg.setdefault('check_batch_sizes', sizes)
        backend = build_inference_backend(
            name, self.model, input_size(self.config), device, **cfg
        )
        return name, backend

    # ----------------------------------------------------------- pipeline
    def _init_pipeline(self, cfg: Config) -> Callable:
        """The test pipeline without its loading transform; the loader
        (:attr:`loader`) is a ``SafeLoadImage`` with the test pipeline's
        settings that raises instead of marking."""
        pipeline = []
        loader_cfg: dict = {}
        for t in get_test_pipeline_cfg(cfg):
            kind = str(t.get('type', '')).split('.')[-1]
            if kind in LOADING_TRANSFORMS:
                if kind == 'SafeLoadImage' and not loader_cfg:
                    loader_cfg = {k: v for k, v in t.items() if k != 'type'}
                continue
            pipeline.append(t)
        loader_cfg['on_error'] = 'raise'
        self.loader = SafeLoadImage(**loader_cfg)
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
        """Load one input and run the test pipeline on it.

        Raises:
            BadImageError: The input cannot be used (with the reason).
        """
        img, ori_shape = self.loader.load_input(item)
        results = dict(
            img=img,
            img_shape=img.shape[:2],
            ori_shape=tuple(ori_shape),
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
        **kwargs,
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
            **kwargs: Options of :meth:`visualize` (``draw``,
                ``ground_truth``, ``show``).

        Returns:
            One result per input, in order (see the class docstring).
        """
        out: List[Any] = []
        for batch in self.iter_results(
            inputs, categories, batch_size, return_datasamples, **kwargs
        ):
            out.extend(batch)
        return out

    def iter_results(
        self,
        inputs: Inputs,
        categories: Categories = None,
        batch_size: Optional[int] = None,
        return_datasamples: bool = False,
        **kwargs,
    ) -> Iterator[List[Any]]:
        """Like :meth:`__call__`, yielding the results batch by batch.

        The steps of ``BaseInferencer.__call__`` (preprocess, forward,
        visualize, postprocess), run per batch so that results stream
        out and no progress bar is drawn.
        """
        pre_kw, fwd_kw, vis_kw, post_kw = self._dispatch_kwargs(
            categories=categories, **kwargs
        )
        items = self._inputs_to_list(inputs)
        size = batch_size or self.batch_size
        for batch in self.preprocess(items, batch_size=size, **pre_kw):
            preds = self.forward(batch, **fwd_kw)
            vis = self.visualize([b[1] for b in batch], preds, **vis_kw)
            yield self.postprocess(preds, vis, return_datasamples, **post_kw)

    def preprocess(
        self,
        inputs: List[ImageInput],
        batch_size: int = 1,
        categories: Categories = None,
    ) -> Iterator[List[BatchItem]]:
        """Batches of ``(index, input, category, packed data)``; an input
        that fails to load or transform carries its exception instead.

        Args:
            inputs: The inputs (after ``_inputs_to_list``).
            batch_size: Inputs per batch.
            categories: One category for all, or one per input.
        """
        if categories is None or isinstance(categories, str):
            categories = [categories] * len(inputs)
        elif len(categories) != len(inputs):
            raise ValueError(
                f'{len(categories)} categories for {len(inputs)} inputs'
            )

        def load(i: int) -> BatchItem:
            try:
                packed = self.prepare(inputs[i], categories[i])
            except Exception as e:  # one bad input must not stop the run
                packed = e
            return (i, inputs[i], categories[i], packed)

        yield from self._get_chunk_data(
            map(load, range(len(inputs))), batch_size
        )

    def forward(self, batch: List[BatchItem]) -> List[Any]:
        """``model.test_step`` on a batch: one ``DataSample`` per input (its
        metainfo gets ``input``, ``input_index`` and ``category``), or an
        error record.

        When the batch fails, its inputs run one by one to find the
        culprit.
        """
        preds: List[Any] = [None] * len(batch)
        good = [k for k, b in enumerate(batch) if isinstance(b[3], dict)]
        for k, b in enumerate(batch):
            if k not in good:
                preds[k] = self._error(b[1], b[0], b[3])
        if not good:
            return preds
        try:
            outs = self._test_step([batch[k][3] for k in good])
        except Exception:
            outs = []
            for k in good:
                try:
                    outs.append(self._test_step([batch[k][3]])[0])
                except Exception as e:
                    outs.append(self._error(batch[k][1], batch[k][0], e))
        for k, out in zip(good, outs):
            i, item, cat, _ = batch[k]
            if not isinstance(out, dict):
                out.set_metainfo(
                    dict(
                        input=describe_input(item, i),
                        input_index=i,
                        category=cat,
                    )
                )
            preds[k] = out
        return preds

    def _test_step(self, packed: List[dict]) -> list:
        batch = default_collate(packed)
        if self.backend is None:
            with torch.no_grad():
                return self.model.test_step(batch)
        # as the head's predict: scores, category mask, DataSample
        scores = self.backend(batch['inputs'])
        samples = batch['data_samples']
        head = self.model.head
        if head.use_category_mask:
            cat = torch.tensor(
                [int(s.metainfo.get('category_idx', -1)) for s in samples]
            )
            scores = scores * head.allowed_mask(cat.to(head.allowed.device))
        for s, score in zip(samples, scores.to(head.allowed.device)):
            s.set_pred_score(score)
        return samples

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

    def _record(self, pred: Any) -> dict:
        """The output record of one prediction (error records as they
        are)."""
        if isinstance(pred, dict):
            return pred
        scores = pred.pred_score.detach().float().cpu().numpy()
        meta = pred.metainfo
        return dict(
            input=meta.get('input'),
            **self.decode(scores, meta.get('category')),
        )

    def visualize(
        self,
        inputs: List[ImageInput],
        preds: List[Any],
        show: bool = False,
        draw: bool = False,
        ground_truth: Optional[Sequence[Optional[dict]]] = None,
        max_size: Optional[int] = None,
    ) -> Optional[List[Optional[np.ndarray]]]:
        """Prediction pictures (:func:`draw_prediction`) of the inputs.

        Args:
            inputs: The batch's inputs.
            preds: Their predictions (:meth:`forward`).
            show: Display in a window: not supported (as the base class).
            draw: Draw the pictures. Defaults to False (returns None).
            ground_truth: ``{attribute: [values]}`` per input (or None),
                drawn as green / red boxes; indexed like all inputs of the
                call, by each prediction's position.
            max_size: Longest side of the image in a picture: larger
                images are shrunk, smaller ones kept. Defaults to the side
                of the network input (the pipeline's ``ResizePad``).

        Returns:
            One BGR picture per input (None for a failed input), or None.
        """
        if show:
            return super().visualize(inputs, preds, show=show)
        if not draw:
            return None
        from ..visualization import (
            draw_prediction,
            fit_within,
            network_input_size,
        )

        if max_size is None:
            max_size = network_input_size(self.pipeline)

        pictures: List[Optional[np.ndarray]] = []
        for item, pred in zip(inputs, preds):
            if isinstance(pred, dict):
                pictures.append(None)
                continue
            record = self._record(pred)
            gt = None
            if ground_truth is not None:
                gt = ground_truth[pred.metainfo['input_index']]
            img = self.loader.load_input(item)[0]
            if self.loader.channel_order == 'rgb':
                img = np.ascontiguousarray(img[..., ::-1])
            img = fit_within(img.astype(np.uint8), max_size)
            pictures.append(
                draw_prediction(img, record, gt=gt, height=img.shape[0])
            )
        return pictures

    def postprocess(
        self,
        preds: List[Any],
        visualization: Optional[List[Optional[np.ndarray]]],
        return_datasamples: bool = False,
    ) -> List[Any]:
        """The output records (see the class docstring), or the
        ``DataSample`` objects with ``return_datasamples``; with
        pictures from :meth:`visualize`, each record gets them under
        ``visualization``."""
        if return_datasamples:
            return list(preds)
        records = [self._record(p) for p in preds]
        if visualization is not None:
            for record, picture in zip(records, visualization):
                if picture is not None:
                    record['visualization'] = picture
        return records

    @staticmethod
    def list_models(pattern: Optional[str] = None) -> List[str]:
        """No model zoo: build from a config and checkpoint."""
        return []
