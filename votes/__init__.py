"""Phiếu tín nhiệm: anonymous, exactly counted Vietnamese confidence votes.

The web application is built by `create_app` (votes/app.py). It is loaded only when asked
for, so that `import votes.text` or the command line's help do not pay for Flask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """Load the web application module when `create_app` is first used."""
    if name in __all__:
        return getattr(importlib.import_module(".app", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
