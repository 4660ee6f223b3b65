"""Gemini's code execution and URL context tools through `google-genai`, on the copyable
`scenarios/gemini_tools.yaml`."""

from __future__ import annotations

from pathlib import Path

from google.genai import types

from mockserver.testing.handle import MockServer

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "gemini_tools.yaml"
CODE = types.GenerateContentConfig(tools=[types.Tool(code_execution=types.ToolCodeExecution())])
URLS = types.GenerateContentConfig(tools=[types.Tool(url_context=types.UrlContext())])
MODEL = "gemini-2.5-flash"


def test_scripted_code_run_comes_before_the_answer(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)

    reply = mockserver.genai_client().models.generate_content(
        model=MODEL, contents="What is the sum of the first 10 primes?", config=CODE
    )

    parts = reply.candidates[0].content.parts  # type: ignore[index, union-attr]
    assert parts is not None and len(parts) == 3
    assert parts[0].executable_code is not None
    assert parts[0].executable_code.language == types.Language.PYTHON
    assert "print(sum(primes))" in (parts[0].executable_code.code or "")
    assert parts[1].code_execution_result is not None
    assert parts[1].code_execution_result.outcome == types.Outcome.OUTCOME_OK
    assert parts[1].code_execution_result.output == "129\n"
    assert parts[2].text == "The sum of the first 10 primes is 129."
    assert reply.code_execution_result == "129\n"


def test_without_the_tool_the_rule_does_not_match(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)

    reply = mockserver.genai_client().models.generate_content(
        model=MODEL, contents="What is the sum of the first 10 primes?"
    )

    assert reply.text != "The sum of the first 10 primes is 129."
    assert reply.executable_code is None


def test_unscripted_runs_are_fake_but_stable_and_stream_first(mockserver: MockServer) -> None:
    client = mockserver.genai_client()

    def chunks() -> list[types.GenerateContentResponse]:
        return list(
            client.models.generate_content_stream(
                model=MODEL, contents="Average my test scores", config=CODE
            )
        )

    first, second = chunks(), chunks()
    opening = first[0].candidates[0].content.parts  # type: ignore[index, union-attr]
    assert opening is not None and opening[0].executable_code is not None
    code = opening[0].executable_code.code or ""
    values = eval(code.split("=", 1)[1].split("\n", 1)[0])  # the list the fake run sums
    assert opening[1].code_execution_result.output == f"{sum(values)}\n"  # type: ignore[union-attr]
    assert second[0].candidates[0].content.parts == opening  # type: ignore[index, union-attr]


def test_url_context_metadata_scripted_statuses(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)

    reply = mockserver.genai_client().models.generate_content(
        model=MODEL, contents="Compare these two shortbread recipes.", config=URLS
    )

    metadata = reply.candidates[0].url_context_metadata  # type: ignore[index]
    assert metadata is not None
    assert [(m.retrieved_url, m.url_retrieval_status) for m in metadata.url_metadata or []] == [
        (
            "https://recipes.example/shortbread",
            types.UrlRetrievalStatus.URL_RETRIEVAL_STATUS_SUCCESS,
        ),
        (
            "https://paywalled.example/shortbread",
            types.UrlRetrievalStatus.URL_RETRIEVAL_STATUS_PAYWALL,
        ),
    ]


def test_url_context_reads_the_urls_in_the_prompt(mockserver: MockServer) -> None:
    reply = mockserver.genai_client().models.generate_content(
        model=MODEL,
        contents="Summarise https://docs.example/a and https://docs.example/b.",
        config=URLS,
    )

    metadata = reply.candidates[0].url_context_metadata  # type: ignore[index]
    assert metadata is not None
    assert [m.retrieved_url for m in metadata.url_metadata or []] == [
        "https://docs.example/a",
        "https://docs.example/b",
    ]
