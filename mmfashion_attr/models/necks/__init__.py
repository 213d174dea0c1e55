from .channel_preserving_fpn import ChannelPreservingFPN
from .detail_preserving_fpn import DetailPreservingFPN
from .gap_concat_fusion import GAPConcatFusion
from .scale_wise_cbam import ScaleWiseCBAM

__all__ = [
    'ChannelPreservingFPN',
    'DetailPreservingFPN',
    'GAPConcatFusion',
    'ScaleWiseCBAM',
]
