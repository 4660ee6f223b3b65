"""Runway's developer API under the gateway's `/runwayml` prefix."""
