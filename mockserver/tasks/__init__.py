"""Async tasks: one lifecycle for every family that submits, polls and fetches a result
(OpenAI videos, the gateway's unified video API, Midjourney, Suno).

A submission is matched against the scenario like any request (`submission`); a rule's `task:`
scripts the task's life (`lifecycle`), and the task lives in the repository (`repository`), so
every worker answers every poll. Each family's protocol module renders the same neutral `Task`
(`task`) in its own wire shape; `artifacts` makes the files a finished task points at.
"""
