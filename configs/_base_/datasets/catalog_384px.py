# An in-house catalog in the catalog format
# (docs/en/user_guides/dataset_prepare.md):
#   data/catalog/schema.json, train.jsonl, val.jsonl, test.jsonl, images.
# Override `data_root` AND `schema_file` together for another location.
data_root = 'data/catalog/'
schema_file = data_root + 'schema.json'
dataset_type = 'CatalogDataset'
img_size = 384  # the paper resizes to 380-384 keeping the aspect ratio

# Paper, section 5.2: zoom and translate +-20 %, rotation +-10 deg,
# shear +-10 %, horizontal flip with p=0.5.
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

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    # Every image is ResizePad-ed to one size: stacked in the workers, the
    # batch is one tensor (pinned, one copy to the GPU), and the data
    # preprocessor needs no per-image loop (which torch.compile cannot
    # trace: with mmengine's pseudo_collate, `compile=True` falls back to
    # eager for the whole training step).
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.jsonl',
        schema=schema_file,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.jsonl',
        schema=schema_file,
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
# The test loader is the val loader on test.jsonl.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='test.jsonl'),
)

# Paper: predictions thresholded at 0.3, per-attribute micro F1.
val_evaluator = dict(type='AttributeMetric', thresholds=0.3)
test_evaluator = val_evaluator
