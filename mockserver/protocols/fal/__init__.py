"""fal.ai's queue API under the gateway's `/fal-ai` prefix."""
