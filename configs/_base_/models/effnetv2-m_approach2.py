# Approach 2: channel-preserving FPN on blocks 3/5/7, no attention
# (fused feature: 80 + 176 + 512 = 768).
_base_ = './effnetv2-m_baseline.py'
model = dict(
    backbone=dict(out_indices=(3, 5, 7)),
    neck=[
        dict(type='ChannelPreservingFPN', in_channels=[80, 176, 512]),
        dict(type='GAPConcatFusion'),
    ],
    head=dict(in_channels=768),
)
