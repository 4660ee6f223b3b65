from __future__ import annotations

from mockserver.core.search import Span, cited_spans


def test_sentence_i_cites_result_i() -> None:
    text = "Paris is big. It is old."

    assert cited_spans(text, 2) == [Span(0, 13, 0), Span(14, 24, 1)]


def test_more_sentences_than_results_leave_the_rest_uncited() -> None:
    spans = cited_spans("One. Two. Three.", 2)

    assert [(s.start, s.end) for s in spans] == [(0, 4), (5, 9)]


def test_no_results_no_citations_and_blank_lines_skipped() -> None:
    assert cited_spans("Anything.", 0) == []
    assert cited_spans("\n\n  First line\nSecond!", 3) == [Span(4, 14, 0), Span(15, 22, 1)]
