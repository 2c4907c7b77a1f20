"""Deployment: ONNX export of a DCFFNet (:mod:`.onnx_export`, folder layout in :mod:`.onnx_format`),
an ONNX Runtime network for the :class:`~dcffnet.Tracker` (:mod:`.onnx_runtime`) and the on-demand
export cache behind ``Tracker(backend="onnx")`` (:mod:`.onnx_cache`). Only the export needs torch;
it is imported when first used."""

from ..lazy import lazy_exports
from .onnx_cache import onnx_network_for
from .onnx_format import ONNX_FILES, state_digest
from .onnx_runtime import OnnxNetwork

__all__ = ["ONNX_FILES", "export_onnx", "OnnxNetwork", "onnx_network_for", "state_digest"]

__getattr__, __dir__ = lazy_exports(__name__, {"export_onnx": ".onnx_export"})
