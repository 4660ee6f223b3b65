"""MiniMax's (Hailuo's) APIs under the gateway's `/minimax` prefix."""
