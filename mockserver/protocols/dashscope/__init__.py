"""Alibaba DashScope (Bailian) wire formats."""
