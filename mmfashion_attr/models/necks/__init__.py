from .channel_preserving_fpn import ChannelPreservingFPN
from .gap_concat_fusion import GAPConcatFusion
from .scale_wise_cbam import ScaleWiseCBAM

__all__ = ['ChannelPreservingFPN', 'GAPConcatFusion', 'ScaleWiseCBAM']
