# iMaterialist-Fashion 2018 (FGVC5, iFashion-Attribute), 8 tasks.
# Convert once (docs/en/user_guides/dataset_prepare.md), which writes
# schema.json and the splits:
#   python tools/dataset_converters/convert.py imat2018 \
#       train=data/imat2018/train.json val=data/imat2018/validation.json \
#       --label-map data/imat2018/iMat_fashion_2018_label_map_228.csv \
#       --img-prefix train=train val=validation --out data/imat2018/catalog
# Images downloaded from the urls as train/<imageId>.jpg and
# validation/<imageId>.jpg under data_root.
# The paper's pipeline, loaders and metric come from the catalog base;
# only where the data lives changes. Override `data_root` AND `schema_file`
# together for another location.
_base_ = ['./catalog_384px.py']
data_root = 'data/imat2018/'
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
