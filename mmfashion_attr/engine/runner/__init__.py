from .resumable_loop import (
    ResumableEpochBasedTrainLoop,
    derived_seed,
    seed_everything,
)

__all__ = ['ResumableEpochBasedTrainLoop', 'derived_seed', 'seed_everything']
