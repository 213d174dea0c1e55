# Approach 4: mmdet's own RetinaNet FPN (256 channels, 5 levels with P6/P7
# from extra convs on the input) + scale-wise CBAM (fused: 5 x 256 = 1280).
_base_ = './effnetv2-m_approach2.py'
model = dict(
    neck=[
        dict(
            type='mmdet.FPN',
            in_channels=[80, 176, 512],
            out_channels=256,
            num_outs=5,
            start_level=0,
            add_extra_convs='on_input',
        ),
        dict(type='ScaleWiseCBAM', in_channels=[256] * 5),
        dict(type='GAPConcatFusion'),
    ],
    head=dict(in_channels=1280),
)
