"""Device selection shared by the network loaders and the tracker (never a hard-coded CUDA)."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: "str | torch.device | None") -> torch.device:
    """``None`` -> CPU; otherwise ``torch.device(device)``, checking that CUDA exists when asked for.

    Raises:
        ValueError: not a device string / ``torch.device``, or CUDA asked for on a machine without it.
    """
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on this machine")
    return dev
