"""Kling's own video API under the gateway's `/kling` prefix (a pass-through channel: the
official request and answer shapes, "change only the domain and the key")."""
