"""Deployment: ONNX export of a DCFFNet (:mod:`.onnx_export`, folder layout in :mod:`.onnx_format`),
an ONNX Runtime network for the :class:`~dcffnet.Tracker` (:mod:`.onnx_runtime`) and the on-demand
export cache behind ``Tracker(backend="onnx")`` (:mod:`.onnx_cache`)."""

from .onnx_cache import onnx_network_for
from .onnx_export import export_onnx
from .onnx_format import ONNX_FILES, state_digest
from .onnx_runtime import OnnxNetwork

__all__ = ["ONNX_FILES", "export_onnx", "OnnxNetwork", "onnx_network_for", "state_digest"]
