from __future__ import annotations

from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from mockserver.engine.content import templates as templating
from mockserver.engine.content.templates import (
    CONTEXT_NAMES,
    TemplateCompileError,
    TemplatedValue,
    TemplateRenderError,
    TemplateSecurityError,
    compile_template,
)

CONTEXT: dict[str, Any] = {
    "match": {"city": "Oslo"},
    "request": {"model": "gpt-4o", "messages": [{"role": "user", "text": "hi"}]},
    "tool_result": None,
}


def test_literal_strings_skip_jinja(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_jinja(*args: object, **kwargs: object) -> None:
        raise AssertionError("a literal string reached jinja")

    monkeypatch.setattr(templating._environment, "parse", no_jinja)
    monkeypatch.setattr(templating._environment, "from_string", no_jinja)
    template = compile_template("It is 21°C and sunny } {")
    assert template.is_literal
    assert template.render({}) == "It is 21°C and sunny } {"


@pytest.mark.parametrize("source", ["{{ 1 }}", "{% if true %}x{% endif %}", "a {# note #}"])
def test_any_jinja_marker_makes_a_template(source: str) -> None:
    assert not compile_template(source).is_literal


def test_variables_render() -> None:
    template = compile_template("Sunny in {{ match.city }} for {{ request.model }}.")
    assert template.render(CONTEXT) == "Sunny in Oslo for gpt-4o."


def test_filters_and_loops_work() -> None:
    template = compile_template(
        "{% for m in request.messages %}{{ m.role | upper }}:{{ m.text }}{% endfor %}"
    )
    assert template.render(CONTEXT) == "USER:hi"


def test_trailing_newline_of_a_block_scalar_is_kept() -> None:
    assert compile_template("{{ match.city }}\n").render(CONTEXT) == "Oslo\n"


def test_misspelt_variable_fails_loudly_with_the_source() -> None:
    template = compile_template("Sunny in {{ match.cty }}")
    with pytest.raises(TemplateRenderError) as caught:
        template.render(CONTEXT)
    assert caught.value.source == "Sunny in {{ match.cty }}"
    assert "cty" in str(caught.value)
    assert "Sunny in {{ match.cty }}" in str(caught.value)


def test_undefined_top_level_name_fails_at_render() -> None:
    with pytest.raises(TemplateRenderError, match="undefined"):
        compile_template("{{ nothing }}").render({})


def test_none_tool_result_attribute_fails_loudly() -> None:
    with pytest.raises(TemplateRenderError):
        compile_template("{{ tool_result.name }}").render(CONTEXT)
    assert compile_template("{% if tool_result %}x{% endif %}").render(CONTEXT) == ""


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ request.__class__ }}",
        "{{ request.messages.append(1) }}",
        "{{ request.update({'model': 'x'}) }}",
        "{{ joiner.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_escapes(payload: str) -> None:
    template = compile_template(payload)
    with pytest.raises(TemplateSecurityError) as caught:
        template.render(CONTEXT)
    assert isinstance(caught.value, SecurityError)
    assert isinstance(caught.value, TemplateRenderError)
    assert CONTEXT["request"]["model"] == "gpt-4o"
    assert len(CONTEXT["request"]["messages"]) == 1


def test_syntax_error_names_the_template_line() -> None:
    with pytest.raises(TemplateCompileError) as caught:
        compile_template("line one\n{{ match.city }\n")
    assert caught.value.lineno == 2
    assert str(caught.value) == "bad template: unexpected '}' (template line 2)"


def test_unknown_top_level_name_rejected_at_compile() -> None:
    with pytest.raises(TemplateCompileError) as caught:
        compile_template("{{ reqest.model }}", known_names=CONTEXT_NAMES)
    assert str(caught.value) == (
        "bad template: unknown variable reqest; templates can use match, request, tool_result"
    )


def test_known_names_allow_locals_and_globals() -> None:
    source = "{% set n = 2 %}{% for i in range(n) %}{{ i }}{% endfor %}{{ match.city }}"
    assert compile_template(source, known_names=CONTEXT_NAMES).render(CONTEXT) == "01Oslo"


def test_templated_value_renders_string_leaves_only() -> None:
    value = TemplatedValue(
        {"city": "{{ match.city }}", "days": 3, "tags": ["{{ request.model }}", True, None]}
    )
    assert value.render(CONTEXT) == {"city": "Oslo", "days": 3, "tags": ["gpt-4o", True, None]}


def test_templated_value_gives_fresh_containers() -> None:
    value = TemplatedValue({"a": [1], "b": "literal"})
    first = value.render({})
    first["a"].append(2)
    assert value.render({}) == {"a": [1], "b": "literal"}


def test_templated_value_compile_error_knows_its_path() -> None:
    with pytest.raises(TemplateCompileError) as caught:
        TemplatedValue({"outer": [{"ok": "x"}, {"bad": "{% if %}"}]})
    assert caught.value.path == ("outer", 1, "bad")


def test_templates_compare_by_source() -> None:
    assert compile_template("{{ match.a }}") == compile_template("{{ match.a }}")
    assert TemplatedValue({"a": "b"}) == TemplatedValue({"a": "b"})
