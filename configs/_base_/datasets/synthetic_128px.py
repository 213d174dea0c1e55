# The embedded synthetic catalog (tools/dataset_converters/make_synthetic.py),
# 128 px.
_base_ = './catalog_384px.py'
data_root = 'data/synthetic/'
schema_file = data_root + 'schema.json'
img_size = 128
train_pipeline = [
    # Robust decoding (EXIF, CMYK, 16-bit, alpha, bomb guard); a bad image
    # is replaced by another sample and counted (BadImageLoggerHook).
    # Large JPEGs are decoded at 1/2-1/8 size while still >= img_size.
    dict(type='SafeLoadImage', on_error='skip', decode_scale=img_size),
    # Resize first, then augment at the network's size: the paper's Keras
    # generator augments the resized image, and the affine warp then costs
    # (384 / 1000)^2 of a warp at full size (docs/en/notes/benchmarks.md).
    dict(type='ResizePad', scale=img_size),
    dict(
        type='FashionRandomAffine',
        zoom=0.2,
        translate=0.2,
        rotate=10.0,
        shear=0.1,
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackAttrInputs'),
]
test_pipeline = [
    # A bad image becomes an unlabelled placeholder: dataset size kept.
    dict(type='SafeLoadImage', on_error='mark', decode_scale=img_size),
    dict(type='ResizePad', scale=img_size),
    dict(type='PackAttrInputs'),
]
_loader = dict(num_workers=1, persistent_workers=False, pin_memory=False)
train_dataloader = dict(
    **_loader,
    dataset=dict(
        data_root=data_root, schema=schema_file, pipeline=train_pipeline
    ),
)
val_dataloader = dict(
    **_loader,
    dataset=dict(
        data_root=data_root, schema=schema_file, pipeline=test_pipeline
    ),
)
test_dataloader = dict(
    **_loader,
    dataset=dict(
        data_root=data_root,
        ann_file='val.jsonl',
        schema=schema_file,
        pipeline=test_pipeline,
    ),
)
