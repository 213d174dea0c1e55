# Fashionpedia / iMaterialist-2021 global attributes (the paper's six
# supercategories).
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py fashionpedia-attr \
#       train=data/fashionpedia/attributes_train2020.json \
#       val=data/fashionpedia/attributes_val2020.json \
#       --img-prefix train=train val=test --out data/fashionpedia/attr
# Image paths (train/..., test/...) are relative to data_root.
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/fashionpedia/'
schema_file = data_root + 'attr/schema.json'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='attr/train.jsonl', schema=schema_file
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='attr/val.jsonl', schema=schema_file
    )
)
# No labelled public test split: the test loader reads val.
test_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='attr/val.jsonl', schema=schema_file
    )
)
