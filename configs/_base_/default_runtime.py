# Runtime shared by every mmfashion_attr config.
# Importing the plugin applies the OpenMMLab compatibility fixes and
# registers the models, datasets, transforms and metrics.
custom_imports = dict(imports=['mmfashion_attr'], allow_failed_imports=False)
default_scope = 'mmpretrain'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_best='attr/mean_micro_f1',
        rule='greater',
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)

# Reliability (docs/en/advanced_guides/reliability.md): bad images counted
# per epoch, a non-finite loss stops the run naming the batch's images, and
# model, datasets and checkpoints must share one attribute schema.
custom_hooks = [
    dict(type='BadImageLoggerHook'),
    dict(type='NonFiniteLossHook', on_nonfinite='raise'),
    dict(type='SchemaCheckHook'),
]

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'nccl' on GPUs; mmfashion_attr.compat falls back to 'gloo' without CUDA.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
