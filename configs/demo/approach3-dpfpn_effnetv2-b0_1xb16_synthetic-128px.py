# Approach 3 with the detail-preserving FPN on the demo recipe: each level's
# lateral signal is concatenated with the top-down one (U-Net style, with
# BatchNorm and ReLU) instead of being added to it.
_base_ = './approach3_effnetv2-b0_1xb16_synthetic-128px.py'
levels = [48, 112, 192]
model = dict(
    neck=[
        dict(type='DetailPreservingFPN', in_channels=levels),
        dict(type='ScaleWiseCBAM', in_channels=levels),
        dict(type='GAPConcatFusion'),
    ],
)
