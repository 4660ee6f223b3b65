"""Doubao (Volcengine Ark) wire formats."""
