"""What hosted code execution ran and what URL context read: the rule's `code_execution:` /
`url_context:`, else a small deterministic run / the URLs the last user message names.

    code_runs_for(asking("..."), None)
      -> [CodeRun("values = [...]\\nprint(sum(values))\\n", "230\\n")]
    url_fetches_for(asking("compare https://a.example and https://b.example"), None)
      -> [UrlFetch("https://a.example"), UrlFetch("https://b.example")]
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

from mockserver.core.hosted import CodeRun, UrlFetch
from mockserver.core.ids import seed_for

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.scenario import ChoiceSpec

_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def code_runs_for(exchange: Exchange, spec: ChoiceSpec | None) -> list[CodeRun]:
    if spec is not None and spec.code_execution is not None:
        return [CodeRun(r.code, r.output, r.outcome) for r in spec.code_execution]
    # A run whose output is what the code prints: derived from the question, not the reply key.
    rng = random.Random(seed_for(exchange.last_user, "code_execution"))
    values = [rng.randrange(1, 100) for _ in range(5)]
    code = f"values = {values}\nprint(sum(values))\n"
    return [CodeRun(code, f"{sum(values)}\n")]


def url_fetches_for(exchange: Exchange, spec: ChoiceSpec | None) -> list[UrlFetch]:
    if spec is not None and spec.url_context is not None:
        return [UrlFetch(f.url, f.status) for f in spec.url_context]
    urls = [url.rstrip(".,;:!?") for url in _URL.findall(exchange.last_user)]
    return [UrlFetch(url) for url in dict.fromkeys(urls)]
