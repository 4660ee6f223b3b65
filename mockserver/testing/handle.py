"""`MockServer`: what the `mockserver` pytest fixture gives a test — the session's server, seen
from one test, with that test's rules, journal and clients.

    def test_weather(mockserver):
        mockserver.add_rule(name="weather", match={"last_user": "weather"},
                            reply={"content": "Sunny."})
        mockserver.openai_client().chat.completions.create(...)
        mockserver.assert_called(rule="weather", times=1)

Rules are tried most local first: the test's inline rules (`add_rule`, `load`, in the order
added), then the marker's files, then the session's scenarios. `seed`, `clock` and `strict`
come from the first local scenario that sets them, else from the session's. Adding rules starts
a fresh engine, so sequence cursors restart; the journal is kept.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from msgspec.structs import replace

from mockserver.journal import calls
from mockserver.journal.calls import Calls, Filters
from mockserver.journal.journal import Entry
from mockserver.scenario import ScenarioSet

if TYPE_CHECKING:
    import anthropic
    import openai
    from google import genai

    from mockserver.gateway.accounts import TokenRecord
    from mockserver.gateway.admission import Gateway
    from mockserver.http.server_thread import ServerThread
    from mockserver.scenario import Scenario
    from mockserver.server_state import MockState

T = TypeVar("T")
API_KEY = "sk-mockserver"
# Where each SDK family expects the API under the server's root URL.
BASE_PATHS = {"openai": "/v1", "anthropic": "", "gemini": "", "gateway": ""}


def layered(local: Sequence[Scenario], session: ScenarioSet) -> ScenarioSet:
    """`local` scenarios tried before the session's. Raises `ScenarioError` (duplicate rule
    names, clashing embeddings) before anything is loaded."""
    if not local:
        return session
    built = ScenarioSet.build([*local, *session.scenarios])
    chosen: dict[str, Any] = {}
    for key in ("seed", "clock", "strict"):
        explicit = [getattr(s, key) for s in local if key in s.model_fields_set]
        chosen[key] = explicit[0] if explicit else getattr(session, key)
    return replace(built, **chosen)


class MockServer:
    """One test's handle on the session's server. Made and cleaned up by the fixture."""

    api_key = API_KEY

    def __init__(
        self,
        server: ServerThread,
        state: MockState,
        session: ScenarioSet,
        test: str,
        find_file: Callable[[str], Path] = Path,
    ) -> None:
        self.server = server
        self.state = state
        self.fail_on_strict_miss = True  # a strict-mode miss fails the test (see the plugin)
        self._session = session
        self._test = test
        self._find_file = find_file
        self._marker: list[Scenario] = []
        self._inline: list[Scenario] = []
        self._seed: int | None = None
        self._strict: bool | None = None
        self._saved = (state.settings.seed, state.settings.strict)
        self._loaded = False
        self._clients: list[Any] = []

    def __repr__(self) -> str:
        return f"<MockServer {self.url}: {len(self.rules)} rules, {self.call_count} requests>"

    # --- Where the server is ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's root, e.g. `http://127.0.0.1:53117`."""
        return self.server.url

    def base_url(self, dialect: str = "openai") -> str:
        """What an SDK takes as `base_url`: `openai` → `<url>/v1`; `anthropic`, `gemini`,
        `gateway` → `<url>`."""
        if dialect not in BASE_PATHS:
            raise ValueError(
                f"unknown dialect {dialect!r}; expected one of {', '.join(BASE_PATHS)}"
            )
        return self.url + BASE_PATHS[dialect]

    def environment(self) -> dict[str, str]:
        """The variables the fixture sets for the test, so that SDK clients built by the code
        under test reach this server (google-genai reads `GOOGLE_API_KEY` first, then
        `GEMINI_API_KEY`; both are set)."""
        return {
            "OPENAI_BASE_URL": self.base_url("openai"),
            "OPENAI_API_KEY": self.api_key,
            "ANTHROPIC_BASE_URL": self.base_url("anthropic"),
            "ANTHROPIC_API_KEY": self.api_key,
            "GOOGLE_GEMINI_BASE_URL": self.base_url("gemini"),
            "GOOGLE_API_KEY": self.api_key,
            "GEMINI_API_KEY": self.api_key,
        }

    # --- Rules ------------------------------------------------------------------------------

    def add_rule(self, rule: Mapping[str, Any] | None = None, /, **fields: Any) -> str:
        """Add one rule for this test, as it would be written in YAML; returns its name
        (`inline-N` when none is given). Raises `ScenarioError` naming what is wrong."""
        data = {**(rule or {}), **fields}
        data.setdefault("name", f"inline-{sum(len(s.rules) for s in self._inline) + 1}")
        # The loader brings pydantic: here, so a test that adds no rule never imports it.
        from mockserver.scenario import load_data

        self._add([load_data({"version": 1, "rules": [data]}, self._source())])
        return str(data["name"])

    def load(self, scenario: str | Path | Mapping[str, Any]) -> None:
        """Add a whole scenario for this test: YAML text (dedented), a mapping, or a file
        (a `Path`, or a one-line string ending in `.yaml`/`.yml`)."""
        from mockserver.scenario import load_data, load_paths, load_text

        if isinstance(scenario, Path) or _looks_like_path(scenario):
            self._add(list(load_paths([self._find_file(str(scenario))]).scenarios))
        elif isinstance(scenario, str):
            self._add([load_text(textwrap.dedent(scenario), self._source())])
        else:
            self._add([load_data(dict(scenario), self._source())])

    @property
    def rules(self) -> list[str]:
        """Names of the rules in force, in the order they are tried."""
        return [rule.name for rule in self.state.scenarios.rules]

    def reset(self) -> None:
        """Forget this test's requests, sequence cursors and tasks; keep its rules."""
        self.state.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the task clock on (tasks scripted with `advance: clock` move by it; nothing
        sleeps); returns the seconds it now stands at since the test began."""
        return self.state.tasks.advance_clock(seconds)

    # --- The journal ------------------------------------------------------------------------

    @property
    def requests(self) -> Calls:
        """This test's requests, oldest first; call it to filter:
        `mockserver.requests(rule="weather", status=200)`."""
        return Calls(self.state.journal.entries())

    @property
    def called(self) -> bool:
        return self.requests.called

    @property
    def call_count(self) -> int:
        return self.requests.call_count

    @property
    def last(self) -> Entry:
        return self.requests.last

    def assert_called(
        self,
        rule: str | None = None,
        *,
        times: int | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        dialect: str | None = None,
        status: int | None = None,
        matched: bool | None = None,
        key_name: str | None = None,
    ) -> Calls:
        """Exactly `times` requests meet the criteria (at least one when `times` is None);
        the `AssertionError` lists the journal's most similar requests and what they missed."""
        __tracebackhide__ = True
        criteria = Filters(rule, model, endpoint, dialect, status, matched, key_name)
        return calls.assert_called(self.requests, criteria, times)

    def assert_all_rules_used(self, *, session: bool = True) -> None:
        """Every rule in force matched at least one request of this test; `session=False`
        checks only the marker's and the test's own rules."""
        __tracebackhide__ = True
        rules = self.state.scenarios.rules
        if not session:
            mine = {rule.name for s in (*self._inline, *self._marker) for rule in s.rules}
            rules = tuple(rule for rule in rules if rule.name in mine)
        calls.assert_all_rules_used(self.requests, rules)

    # --- Gateway mode (a scenario with a `gateway:` section) ------------------------------

    def create_key(
        self,
        name: str,
        quota: int = 0,
        *,
        unlimited: bool = False,
        models: Sequence[str] | None = None,
        user: int = 1,
        group: str = "",
    ) -> str:
        """A new gateway key (`sk-…`) named `name` with `quota` (500,000 = $1)."""
        token = self._gateway().create_token(
            name,
            user_id=user,
            remain_quota=quota,
            unlimited_quota=unlimited,
            model_limits=list(models) if models is not None else None,
            group=group,
        )
        return "sk-" + token.key

    def balance(self, name: str) -> int:
        """The quota the key named `name` has left."""
        return self._token(name).remain_quota

    def spent(self, name: str) -> int:
        """The quota the key named `name` has spent."""
        return self._token(name).used_quota

    def key(self, name: str) -> str:
        """The full key of a token the scenario declares (derived from the seed unless given)."""
        return "sk-" + self._token(name).key

    def _gateway(self) -> Gateway:
        gateway = self.state.gateway
        if gateway is None:
            raise RuntimeError(
                "gateway mode is off: load a scenario with a `gateway:` section "
                "(mockserver.load(...)) before using keys and quotas"
            )
        return gateway

    def _token(self, name: str) -> TokenRecord:
        token = self._gateway().token_named(name)
        if token is None:
            raise KeyError(f"no gateway key named {name!r}")
        return token

    def journal_report(self) -> str:
        """This test's requests as the failure report prints them."""
        return calls.report(self.requests)

    # --- Ready-made SDK clients (the SDKs are optional: imported on first use) ---------------

    def openai_client(self, **options: Any) -> openai.OpenAI:
        import openai

        return self._keep(openai.OpenAI(**self._options("openai", options)))

    def async_openai_client(self, **options: Any) -> openai.AsyncOpenAI:
        import openai

        return openai.AsyncOpenAI(**self._options("openai", options))

    def anthropic_client(self, **options: Any) -> anthropic.Anthropic:
        import anthropic

        return self._keep(anthropic.Anthropic(**self._options("anthropic", options)))

    def async_anthropic_client(self, **options: Any) -> anthropic.AsyncAnthropic:
        import anthropic

        return anthropic.AsyncAnthropic(**self._options("anthropic", options))

    def genai_client(self, api_version: str | None = None, **options: Any) -> genai.Client:
        """A google-genai client; `api_version` picks `v1beta` or `v1` (the SDK's default)."""
        from google import genai
        from google.genai import types

        http = types.HttpOptions(base_url=self.base_url("gemini"), api_version=api_version)
        options.setdefault("http_options", http)
        options.setdefault("api_key", self.api_key)
        return self._keep(genai.Client(**options))

    def _options(self, family: str, options: dict[str, Any]) -> dict[str, Any]:
        return {"base_url": self.base_url(family), "api_key": self.api_key, **options}

    def _keep(self, client: T) -> T:
        self._clients.append(client)
        return client

    # --- Life cycle (called by the fixture) -------------------------------------------------

    def begin(
        self,
        marker: Sequence[Scenario] = (),
        *,
        seed: int | None = None,
        strict: bool | None = None,
    ) -> None:
        """Start the test: the marker's scenarios and overrides in force, the journal empty."""
        self._marker, self._seed, self._strict = list(marker), seed, strict
        if self._marker or seed is not None or strict is not None:
            self._apply(self._inline)
        self.state.reset()

    def end(self) -> None:
        """Close the clients made here and put the session's scenarios back."""
        for client in self._clients:
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._clients.clear()
        # Also when the test changed the scenarios through the admin API.
        if self._loaded or self.state.scenarios is not self._session:
            self.state.settings.seed, self.state.settings.strict = self._saved
            self.state.load(self._session)
            self._loaded = False
        self.state.reset()

    def _add(self, scenarios: list[Scenario]) -> None:
        inline = [*self._inline, *scenarios]
        self._apply(inline)  # raises before anything changes when the rules don't fit
        self._inline = inline

    def _apply(self, inline: list[Scenario]) -> None:
        scenarios = layered([*inline, *self._marker], self._session)
        settings = self.state.settings
        settings.seed = self._seed if self._seed is not None else self._saved[0]
        settings.strict = self._strict if self._strict is not None else self._saved[1]
        self.state.load(scenarios)
        self._loaded = True

    def _source(self) -> str:
        return f"<inline: {self._test}>"


def _looks_like_path(value: object) -> bool:
    return (
        isinstance(value, str) and "\n" not in value and value.strip().endswith((".yaml", ".yml"))
    )
