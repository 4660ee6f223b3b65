"""Deterministic, offline emulator of an LLM API gateway and the vendor APIs behind it.

    from mockserver import MockServer   # the pytest fixture's handle, for annotations

Nothing is imported until asked for: `import mockserver` stays as cheap as the CLI needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.testing.handle import MockServer

__version__ = "0.1.0"
__all__ = ["MockServer", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "MockServer":
        from mockserver.testing.handle import MockServer

        return MockServer
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
