"""Luma Dream Machine under the gateway's `/luma` prefix (the luma-web shape its docs give)."""
