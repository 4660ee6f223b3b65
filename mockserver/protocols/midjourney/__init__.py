"""Midjourney as the gateway relays it (the midjourney-proxy protocol under `/mj/` and
`/{mode}/mj/`): submissions, the task object, its buttons and the actions they drive."""
