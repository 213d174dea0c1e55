# Parekh & Shaik (VISAPP 2023), approach2, on DeepFashion Category and
# Attribute Prediction Benchmark
# at 384 px, 8 GPUs x 16 images (batch 128), Adam 1e-5 x0.75 every 8 epochs.
# Convert the dataset first: configs/_base_/datasets/deepfashion.py.
_base_ = [
    '../../_base_/models/effnetv2-m_approach2.py',
    '../../_base_/datasets/deepfashion.py',
    '../../_base_/schedules/paper_adam.py',
    '../../_base_/default_runtime.py',
]
# The head's attributes follow the dataset's schema.
model = dict(head=dict(schema={{_base_.schema_file}}))
