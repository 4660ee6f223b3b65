"""Alibaba Cloud Model Studio (DashScope) APIs under the gateway's `/alibailian` prefix."""
