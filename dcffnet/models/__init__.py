"""DCFFNet networks: the registry, the model, its parts."""

from .config import CF_CHOICES, HEAD_CHOICES, ModelConfig
from .dcffnet import DCFFNet, TemplateFeatures, create
from .fusion import CorrelationFusion, depthwise_xcorr, xcorr
from .registry import get_config, list_models, register_model

__all__ = [
    "CF_CHOICES",
    "HEAD_CHOICES",
    "ModelConfig",
    "DCFFNet",
    "TemplateFeatures",
    "CorrelationFusion",
    "depthwise_xcorr",
    "xcorr",
    "create",
    "get_config",
    "list_models",
    "register_model",
]
