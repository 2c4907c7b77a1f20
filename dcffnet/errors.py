"""Exceptions raised by dcffnet's weights handling."""

from __future__ import annotations

__all__ = ["WeightsNotFoundError", "CheckpointError"]


class WeightsNotFoundError(FileNotFoundError):
    """The requested weights could not be found: unknown name, missing hub repo or revision,
    offline with an empty cache, or no bundled default checkpoint."""


class CheckpointError(ValueError):
    """A checkpoint was found but cannot be used: corrupt file, checksum mismatch, missing or
    unexpected keys, shape mismatch, or an invalid ``config.json``."""
