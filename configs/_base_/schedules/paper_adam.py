# Parekh & Shaik (VISAPP 2023), section 5.2: Adam, learning rate 1e-5,
# decayed by 0.75 every 8 epochs, batch size 128 (here 8 GPUs x 16).
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-5, weight_decay=0.0))

param_scheduler = dict(
    type='StepLR',
    by_epoch=True,
    step_size=8,
    gamma=0.75,
    begin=0,
    # `end` is explicit: a by-epoch scheduler without it stores the first
    # run's max_epochs in the checkpoint, which breaks resuming with another
    # length (docs/en/notes/compatibility.md).
    end=10000,
)

train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# 8 GPUs x 16 images per GPU; `--auto-scale-lr` rescales lr for other sizes.
auto_scale_lr = dict(base_batch_size=128)
