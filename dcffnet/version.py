"""The package version (one place; ``dcffnet.__version__`` and checkpoints read it from here)."""

__version__ = "0.4.0"
