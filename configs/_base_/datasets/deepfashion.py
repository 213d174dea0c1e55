# DeepFashion Category and Attribute Prediction Benchmark (attribute types +
# category: 5 types for Anno/ and Anno_coarse/, 6 for Anno_fine/).
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py deepfashion data/deepfashion \
#       --anno-dir Anno_coarse --out data/deepfashion/catalog
# Image paths (img/...) are relative to data_root.
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/deepfashion/'
schema_file = data_root + 'catalog/schema.json'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='catalog/train.jsonl', schema=schema_file
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='catalog/val.jsonl', schema=schema_file
    )
)
test_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='catalog/test.jsonl', schema=schema_file
    )
)
