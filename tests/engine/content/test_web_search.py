from __future__ import annotations

from mockserver.core.exchange import Exchange, Message
from mockserver.core.search import SearchResult
from mockserver.engine.content.web_search import fake_results, search_for
from mockserver.scenario.outcomes import ReplySpec


def asking(text: str) -> Exchange:
    return Exchange(
        dialect="openai",
        endpoint="/v1/chat/completions",
        model="gpt-4o-search-preview",
        messages=[Message("user", text)],
        body={},
    )


def test_fake_results_come_from_the_query_alone() -> None:
    first = fake_results("best pizza in Rome", 3)

    assert first == fake_results("best pizza in Rome", 3)
    assert first != fake_results("best pasta in Rome", 3)
    assert len({r.url for r in first}) == 3
    assert all(r.url.startswith("https://") and "best-pizza-in-rome" in r.url for r in first)


def test_the_query_is_the_last_user_message_in_words() -> None:
    search = search_for(asking("What's new in Rust 2.0? Please, be brief!"), None)

    assert search.query == "What's new in Rust 2 0 Please be brief"


def test_a_rule_scripts_the_results() -> None:
    spec = ReplySpec.model_validate(
        {"content": "x", "web_search": [{"title": "T", "url": "https://a.example/"}]}
    )

    search = search_for(asking("anything"), spec)

    assert search.results == [SearchResult("T", "https://a.example/", "")]
