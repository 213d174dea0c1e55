# Fashionpedia instances: one crop per main garment, category = product
# category.
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py fashionpedia-inst \
#       train=data/fashionpedia/instances_attributes_train2020.json \
#       val=data/fashionpedia/instances_attributes_val2020.json \
#       --img-prefix train=train val=test --out data/fashionpedia/inst
# The crops (crops/train/..., crops/val/...) are written next to the
# annotation files; allowed values per category are learned from train.
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/fashionpedia/inst/'
schema_file = data_root + 'schema.json'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='train.jsonl', schema=schema_file
    )
)
val_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='val.jsonl', schema=schema_file)
)
# No labelled public test split: the test loader reads val.
test_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='val.jsonl', schema=schema_file)
)
