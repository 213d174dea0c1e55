# Approach 3: channel-preserving FPN + scale-wise CBAM (fused feature: 768).
_base_ = './effnetv2-m_approach2.py'
model = dict(
    neck=[
        dict(type='ChannelPreservingFPN', in_channels=[80, 176, 512]),
        dict(type='ScaleWiseCBAM', in_channels=[80, 176, 512]),
        dict(type='GAPConcatFusion'),
    ]
)
