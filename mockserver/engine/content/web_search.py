"""What a hosted web search finds: the rule's `web_search:` results, else fake ones.

Fake results are derived from the query alone (not the reply key), so a repeated request
finds the same pages:

    fake_results("best pizza in Rome", 3)[0]
      -> SearchResult(title="Best pizza in Rome - ...", url="https://.../best-pizza-in-rome", ...)
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

from mockserver.core.ids import seed_for
from mockserver.core.search import SearchResult, WebSearch

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.scenario import ChoiceSpec

FAKE_RESULTS = 3
QUERY_WORDS = 12
_SITES = (
    ("en.wikipedia.org", "Wikipedia"),
    ("www.britannica.com", "Britannica"),
    ("www.reuters.com", "Reuters"),
    ("www.bbc.com", "BBC"),
    ("www.nationalgeographic.com", "National Geographic"),
    ("www.theguardian.com", "The Guardian"),
)
_WORD = re.compile(r"[A-Za-z0-9']+")


def search_for(exchange: Exchange, spec: ChoiceSpec | None) -> WebSearch:
    """The search before this answer: its query is the last user message's first words."""
    query = " ".join(_WORD.findall(exchange.last_user)[:QUERY_WORDS]) or "search"
    if spec is not None and spec.web_search is not None:
        results = [SearchResult(r.title, r.url, r.snippet) for r in spec.web_search]
    else:
        results = fake_results(query, FAKE_RESULTS)
    return WebSearch(query, results)


def fake_results(query: str, count: int) -> list[SearchResult]:
    rng = random.Random(seed_for(query, "web_search"))
    slug = "-".join(_WORD.findall(query.lower())[:6]) or "search"
    title = query[:1].upper() + query[1:]
    sites = rng.sample(_SITES, count)
    return [
        SearchResult(
            f"{title} - {name}",
            f"https://{site}/{slug}-{rng.randrange(1000, 9999)}",
            f"What to know about {query}: an overview, recent developments and sources.",
        )
        for site, name in sites
    ]
