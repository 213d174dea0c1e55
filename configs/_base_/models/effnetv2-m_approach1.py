# Approach 1: multi-scale taps at blocks 3/5/7 (80x48x48, 176x24x24,
# 512x12x12), a separate CBAM per scale, no FPN (fused feature: 768).
# The paper's heading says "without attention" while its text adds per-layer
# attention; we follow the text. effnetv2-m_approach1-noattn.py is the other
# reading.
_base_ = './effnetv2-m_baseline.py'
model = dict(
    backbone=dict(out_indices=(3, 5, 7)),
    neck=[
        dict(type='ScaleWiseCBAM', in_channels=[80, 176, 512]),
        dict(type='GAPConcatFusion'),
    ],
    head=dict(in_channels=768),
)
