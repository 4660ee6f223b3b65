"""Suno as the gateway relays it (new-api's `/suno/…` routes): music and lyrics tasks in its
`{code, message, data}` envelope, clips with audio we serve."""
