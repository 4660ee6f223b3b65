"""Record a real API session as editable scenarios, and replay it offline.

`mockserver record --upstream URL` runs a proxy (`proxy`) that forwards each request to the
upstream with the caller's credentials, streams the answer back unchanged, and writes each
exchange as a scenario rule (`rules`) into a YAML file (`cassette`): a match a person would
write, the reply in the neutral form (`replies`, reassembled from the body or the event stream),
the stream's timing as `latency:`, an upstream error as a `fault:`. Credentials never reach the
file (`redact`). `modes` says when the upstream is asked: `record`, `replay`, `once`,
`new_episodes`, as in VCR.py.
"""
