"""Modules loaded on first use: what a command does not need, it does not import.

`votes --help` must not pay for ReportLab, Alembic, argon2 or the web application; the
commands that use them name them here, at the top of the file like any import, and the
module is executed when one of its attributes is first read (importlib's LazyLoader).
tests/test_architecture.py reads these calls as imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """Return the module `name`, to be executed when one of its attributes is first read."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)
    return module
