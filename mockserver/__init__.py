"""Deterministic, offline emulator of an LLM API gateway and the vendor APIs behind it."""

__version__ = "0.1.0"
