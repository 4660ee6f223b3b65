"""ByteDance Volcengine Ark (Doubao) wire formats, under the gateway's `/volc` prefix and
Ark's own `/api/v3`."""
