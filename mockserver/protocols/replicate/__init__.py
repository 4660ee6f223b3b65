"""Replicate's HTTP API under the gateway's `/replicate` prefix."""
