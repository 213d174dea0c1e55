# Fashionpedia global attributes with length split into garment and sleeve
# length.
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py fashionpedia-attr \
#       train=data/fashionpedia/attributes_train2020.json \
#       val=data/fashionpedia/attributes_val2020.json \
#       --img-prefix train=train val=test --split-length \
#       --out data/fashionpedia/attr_split-length
# Image paths (train/..., test/...) are relative to data_root.
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/fashionpedia/'
schema_file = data_root + 'attr_split-length/schema.json'

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='attr_split-length/train.jsonl',
        schema=schema_file,
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='attr_split-length/val.jsonl',
        schema=schema_file,
    )
)
# No labelled public test split: the test loader reads val.
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='attr_split-length/val.jsonl',
        schema=schema_file,
    )
)
