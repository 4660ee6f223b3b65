"""ByteDance Volcengine Ark (Doubao) APIs under the gateway's `/volc` prefix and Ark's own
`/api/v3`."""
