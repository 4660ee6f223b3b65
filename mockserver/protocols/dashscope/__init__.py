"""Alibaba Cloud Model Studio (DashScope) wire formats, bare and under the gateway's
`/alibailian` prefix."""
