from .efficientnet_v2_taps import EfficientNetV2Taps

__all__ = ['EfficientNetV2Taps']
