from .masked_multilabel_loss import MaskedMultiLabelLoss

__all__ = ['MaskedMultiLabelLoss']
