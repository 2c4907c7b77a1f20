"""Names a package exports but imports only when first used (PEP 562 module ``__getattr__``), so
``import dcffnet`` does not import torch until a PyTorch path is used."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``exports`` is looked up in the
    module named by its value (relative to ``package``; ``""`` for a submodule of that name) on
    first access, then kept on the package.

    Example::

        __getattr__, __dir__ = lazy_exports(__name__, {"DCFFNet": ".models", "models": ""})
    """

    def __getattr__(name: str) -> Any:
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if source == "":
            value = importlib.import_module(f".{name}", package)
        else:
            value = getattr(importlib.import_module(source, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
