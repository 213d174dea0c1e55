# FashionAI attributes (Alibaba Tianchi 2018), one attribute per image.
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py fashionai \
#       train=data/fashionai/base/Annotations/label.csv \
#       train=data/fashionai/web/Annotations/skirt_length_labels.csv \
#       --img-root data/fashionai --val-fraction 0.1 --maybe unknown \
#       --out data/fashionai/catalog
# Image paths are relative to data_root (--img-root of the convert step).
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/fashionai/'
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
# No labelled public test split: the test loader reads val.
test_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='catalog/val.jsonl', schema=schema_file
    )
)
