"""Training: the paper's two-stage recipe (SiamFC pre-training, CAR fine-tuning), dataset readers,
pair sampling, augmentation, targets, losses and the DDP-ready loop. Entry point: ``dcffnet train``."""

from .config import (AugmentConfig, DataConfig, DatasetSpec, LossConfig, OptimConfig, TrainConfig, list_recipes,
                     load_recipe)
from .engine import build_model, freeze_for_stage2, train

__all__ = ["AugmentConfig", "DataConfig", "DatasetSpec", "LossConfig", "OptimConfig", "TrainConfig",
           "list_recipes", "load_recipe", "build_model", "freeze_for_stage2", "train"]
