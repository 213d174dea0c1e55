# Approach 3 with the detail-preserving FPN (not one of the paper's
# variants): each level's lateral signal is concatenated with the top-down
# one (U-Net style, with BatchNorm and ReLU) instead of being added to it.
_base_ = './approach3_effnetv2-m_8xb16_catalog-384px.py'
levels = [80, 176, 512]
model = dict(
    neck=[
        dict(type='DetailPreservingFPN', in_channels=levels),
        dict(type='ScaleWiseCBAM', in_channels=levels),
        dict(type='GAPConcatFusion'),
    ],
)
