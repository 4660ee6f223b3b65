"""Jimeng (ByteDance's video generation) under the gateway's `/jimeng` prefix."""
