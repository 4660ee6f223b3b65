"""Templates run on a budget: whatever a scenario's template asks, a render ends soon, small,
with an error that says which bound it hit; ordinary templates don't notice."""

from __future__ import annotations

import tracemalloc

import pytest

from mockserver.engine.content.template_sizes import weight
from mockserver.engine.content.templates import (
    TemplateCompileError,
    TemplatedValue,
    TemplateRenderError,
    compile_template,
)

CONTEXT = {
    "match": {"city": "Oslo"},
    "request": {"messages": [{"text": "hi"}, {"text": "yo"}], "model": "gpt-4o"},
    "tool_result": None,
}

RUNAWAY = {
    "string times a constant": ("{{ 'x' * 10**8 }}", "4,000,000 characters"),
    "list times a constant": ("{{ ([('x' * 1000000)] * 1000)|join }}", "4,000,000 characters"),
    "huge power": ("{{ 10 ** 100000 }}", "bits"),
    "nested loops": (
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "operations",
    ),
    "doubling in a namespace": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "`~`",
    ),
    "replace amplifies": ("{{ ('x' * 1000)|replace('x', 'y' * 100000) }}", "|replace"),
    "center width": ("{{ 'x'.center(10**9) }}", ".center()"),
    "format width": ("{{ '{:>1000000000}'.format(1) }}", ".format()"),
    "printf width": ("{{ '%0999999999d' % 1 }}", "`%`"),
    "join separator": ("{{ range(100000)|join('x' * 1000) }}", "|join"),
    "literal text repeated": (
        "{% for i in range(100000) %}" + "x" * 100 + "{% endfor %}",
        "output",
    ),
    "exponential macro": (
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        "",
    ),
    "sum of lists": ("{{ ([[1]] * 1000)|sum(start=[]) }}", "numbers only"),
}


@pytest.mark.parametrize(("source", "said"), RUNAWAY.values(), ids=RUNAWAY.keys())
def test_a_runaway_template_stops_with_the_bound_it_hit(source: str, said: str) -> None:
    tracemalloc.start()
    try:
        template = compile_template(source)  # nothing computed while compiling
        with pytest.raises(TemplateRenderError) as caught:
            template.render(CONTEXT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert said in caught.value.detail
    assert peak < 200_000_000  # what the template asked for was never allocated


def test_compiling_folds_no_constant() -> None:
    tracemalloc.start()
    try:
        compile_template("{{ 'x' * 10**9 }}{{ 10**10**10 }}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000


def test_ordinary_templates_render_as_before() -> None:
    source = (
        "It is sunny in {{ match.city }} ({{ match.city|upper }}). "
        "{% for m in request.messages %}{{ loop.index }}:{{ m.text }};{% endfor %} "
        "{{ 'a' ~ 'b' }} {{ (2 ** 10) * 3 }} {{ '%s-%d' % ('x', 3) }} {{ 'x{}'.format(1) }} "
        "{{ [1, 2, 3]|sum }} {{ [3, 1]|sort|join(',') }} {{ 'ab' * 2 }} {{ 'x'|center(5) }}"
        "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}"
    )
    assert compile_template(source).render(CONTEXT) == (
        "It is sunny in Oslo (OSLO). 1:hi;2:yo; ab 3072 x-3 x1 6 1,3 abab   x  <1>"
    )


def test_every_template_of_a_value_shares_one_budget() -> None:
    loop = "{% for i in range(30000) %}{% endfor %}"
    assert TemplatedValue({"a": loop}).render(CONTEXT) == {"a": ""}
    with pytest.raises(TemplateRenderError, match="operations"):
        TemplatedValue({f"k{i}": loop for i in range(5)}).render(CONTEXT)


def test_a_shared_subtree_compiles_once() -> None:
    leaf = ["{{ request.model }}"] * 9
    value: object = leaf
    for _ in range(8):  # 9**9 leaves if walked as a tree
        value = [value] * 9
    compiled = TemplatedValue({"small": leaf})
    assert compiled.render(CONTEXT) == {"small": ["gpt-4o"] * 9}
    TemplatedValue(value)  # returns at once: each shared list is compiled once


@pytest.mark.parametrize("source", ["{{ lipsum() }}", "{{ [1, 2]|random }}"])
def test_unseeded_randomness_is_not_offered(source: str) -> None:
    with pytest.raises((TemplateRenderError, TemplateCompileError)):
        compile_template(source).render(CONTEXT)


def test_weight_counts_references_and_stops_past_its_limit() -> None:
    assert weight(["abc", {"k": "vv"}]) == 2 + 3 + 1 + 1 + 2
    shared = "x" * 1000
    assert weight([shared] * 1000, limit=10**9) == 1000 + 1000 * 1000
    assert weight([shared] * 10**6, limit=5000) > 5000
