"""What every inference backend of :class:`AttributeExtractor` shares: a
registry, the eager reference and the check against it."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, Set, Union

import torch
import torch.nn as nn
from mmengine.registry import Registry

from ..onnx_export import AttributeScores

INFERENCE_BACKENDS = Registry('inference backend')


class BackendMismatchError(ValueError):
    """A backend's scores differ from eager PyTorch's by more than the
    tolerance: the backend is refused."""


def max_abs_difference(got: torch.Tensor, ref: torch.Tensor) -> float:
    """Largest absolute difference (``inf`` for a shape mismatch or a
    non-finite value in ``got`` where ``ref`` is finite)."""
    got, ref = got.detach().float().cpu(), ref.detach().float().cpu()
    if got.shape != ref.shape:
        return float('inf')
    diff = (got - ref).abs()
    diff[torch.isnan(diff)] = float('inf')
    return float(diff.max()) if diff.numel() else 0.0


class BaseInferenceBackend:
    """Pixels in, flat sigmoid scores out, checked against eager PyTorch.

    A backend maps a batch of test-pipeline images (``(N, 3, S, S)``, BGR
    0..255, any dtype, on any device) to the ``(N, num_values)`` float32
    sigmoid scores of all attributes on the CPU, without the category mask
    (the extractor applies it as the head does). The scores must equal
    :class:`~mmfashion_attr.apis.onnx_export.AttributeScores` run eagerly
    in float32 within ``tolerance``: every batch size is checked the first
    time it is seen (those of ``check_batch_sizes`` at construction, on
    random images), and a backend that differs raises
    :class:`BackendMismatchError` instead of returning scores.

    Args:
        model: The built model (eval mode).
        input_size: Side ``S`` of the square network input.
        device: Where the backend runs.
        tolerance: Largest allowed absolute score difference. Defaults to
            1e-3.
        check_batch_sizes: Batch sizes checked at construction. Defaults
            to ``(1,)``.
    """

    name = 'base'

    def __init__(
        self,
        model: nn.Module,
        input_size: int,
        device: Union[str, torch.device] = 'cpu',
        tolerance: float = 1e-3,
        check_batch_sizes: Sequence[int] = (1,),
    ) -> None:
        self.model = model.eval()
        self.input_size = int(input_size)
        self.device = torch.device(device)
        self.tolerance = float(tolerance)
        self.reference = AttributeScores(model, split=False).eval()
        self.checked: Set[int] = set()
        self.last_difference: Optional[float] = None

    def setup(self, check_batch_sizes: Iterable[int]) -> None:
        """Check the batch sizes given at construction (subclasses call
        this at the end of ``__init__``)."""
        g = torch.Generator().manual_seed(0)
        for n in check_batch_sizes:
            s = self.input_size
            images = torch.randint(0, 256, (n, 3, s, s), generator=g)
            self(images.to(torch.uint8))

    @torch.no_grad()
    def eager(self, images: torch.Tensor) -> torch.Tensor:
        """The reference: eager float32 PyTorch on the backend's device."""
        ref_device = next(self.model.parameters()).device
        return self.reference(images.to(ref_device)).float().cpu()

    def run(self, images: torch.Tensor) -> torch.Tensor:
        """The backend's own computation (subclasses)."""
        raise NotImplementedError

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Scores ``(N, num_values)`` (float32, CPU) of ``images``."""
        scores = self.run(images).float().cpu()
        n = int(images.shape[0])
        if n not in self.checked:
            diff = max_abs_difference(scores, self.eager(images))
            self.last_difference = diff
            if not diff <= self.tolerance:
                raise BackendMismatchError(
                    f'{self.name}: scores differ from eager PyTorch by '
                    f'{diff:.2e} at batch {n} (tolerance {self.tolerance:g})'
                )
            self.checked.add(n)
        return scores


def build_inference_backend(
    name: str,
    model: nn.Module,
    input_size: int,
    device: Union[str, torch.device] = 'cpu',
    **kwargs,
) -> BaseInferenceBackend:
    """Build a registered backend (``'compile'``, ``'cuda_graph'``,
    ``'onnxruntime'``) by name.

    Raises:
        ValueError: Unknown name, or a backend the device cannot run.
        BackendMismatchError: The backend's scores differ from eager.
    """
    if name not in INFERENCE_BACKENDS.module_dict:
        raise ValueError(
            f'unknown inference backend {name!r}; one of '
            f'{sorted(INFERENCE_BACKENDS.module_dict)} or eager'
        )
    return INFERENCE_BACKENDS.get(name)(
        model, input_size, device=device, **kwargs
    )
