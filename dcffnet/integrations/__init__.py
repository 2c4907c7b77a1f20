"""Adapters for external evaluation toolkits (optional extras): ``got10k`` and the VOT toolkit's TraX."""
