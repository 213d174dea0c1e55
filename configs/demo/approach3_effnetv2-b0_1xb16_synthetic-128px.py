# Approach 3 (the paper's model) on the demo recipe: approach 1's taps with
# the channel-preserving FPN before the per-scale CBAM.
_base_ = './approach1_effnetv2-b0_1xb16_synthetic-128px.py'
levels = [48, 112, 192]
model = dict(
    neck=[
        dict(type='ChannelPreservingFPN', in_channels=levels),
        dict(type='ScaleWiseCBAM', in_channels=levels),
        dict(type='GAPConcatFusion'),
    ],
)
