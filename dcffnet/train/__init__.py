"""Training: the paper's two-stage recipe (SiamFC pre-training, CAR fine-tuning), pair sampling,
augmentation, targets, losses, distillation and the DDP-ready loop, reading data through
:mod:`dcffnet.data`. Entry point: ``dcffnet train``."""

from .config import (AugmentConfig, DataConfig, DatasetSpec, LossConfig, OptimConfig, TrainConfig, list_recipes,
                     load_recipe)
from .engine import build_model, freeze_for_stage2, train

__all__ = ["AugmentConfig", "DataConfig", "DatasetSpec", "LossConfig", "OptimConfig", "TrainConfig",
           "list_recipes", "load_recipe", "build_model", "freeze_for_stage2", "train"]
