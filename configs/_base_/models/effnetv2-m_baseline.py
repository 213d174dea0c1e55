# Baseline of Parekh & Shaik (VISAPP 2023), Fig. 4 / section 4.2:
# EfficientNetV2-M head conv (1280 x 12 x 12 at 384 px) -> CBAM -> GAP
# -> one branch per attribute.
# `schema_file` comes from the dataset base config.
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/'
    'efficientnetv2/efficientnetv2-m_3rdparty_in1k_20221220-'
    '9dc0c729.pth'
)
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        # Keras EfficientNetV2 preprocessing, x / 127.5 - 1
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=True,
    ),
    backbone=dict(
        type='EfficientNetV2Taps',
        arch='m',
        out_indices=(8,),  # the 1280-channel head conv
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone'
        ),
    ),
    neck=[
        dict(type='ScaleWiseCBAM', in_channels=[1280]),
        dict(type='GAPConcatFusion'),
    ],
    head=dict(
        type='MultiAttributeHead',
        schema='data/catalog/schema.json',
        in_channels=1280,
        hidden_channels=512,
        loss=dict(type='MaskedMultiLabelLoss'),
        threshold=0.3,
    ),
)
