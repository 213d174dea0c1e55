# Approach 1 on the demo recipe: taps at b0 blocks 3/5/6 (48x16x16,
# 112x8x8, 192x4x4 at 128 px), a CBAM per scale, GAP + concat, no FPN.
# The recommended model on the embedded catalog: configs/demo/README.md.
_base_ = './baseline_effnetv2-b0_1xb16_synthetic-128px.py'
levels = [48, 112, 192]
model = dict(
    backbone=dict(out_indices=(3, 5, 6)),
    neck=[
        dict(type='ScaleWiseCBAM', in_channels=levels),
        dict(type='GAPConcatFusion'),
    ],
    head=dict(in_channels=sum(levels)),
)
