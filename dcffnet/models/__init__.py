"""DCFFNet networks: the registry, the model, its parts.

The configuration, the registry and the shape arithmetic (:mod:`.shapes`) need no torch; the
network modules are imported when first used.
"""

from ..lazy import lazy_exports
from .config import CF_CHOICES, HEAD_CHOICES, ModelConfig
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
    "import_nanotrack_v3",
    "load_nanotrack_v3",
    "get_config",
    "list_models",
    "register_model",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "DCFFNet": ".dcffnet", "TemplateFeatures": ".dcffnet", "create": ".dcffnet",
    "CorrelationFusion": ".fusion", "depthwise_xcorr": ".fusion", "xcorr": ".fusion",
    "import_nanotrack_v3": ".nanotrack_v3_import", "load_nanotrack_v3": ".nanotrack_v3_import",
})
