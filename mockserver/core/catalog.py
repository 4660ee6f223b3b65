"""The models the gateway lists, their limits and tokenizers (`mockserver/data/models.yaml`).

Lookups accept the ids clients actually send, not only the listed ones:

    get("gpt-4o")                  -> gpt-4o
    get("gpt-4o-2024-08-06")       -> gpt-4o's data, id "gpt-4o-2024-08-06" (dated snapshot)
    get("models/gemini-2.5-flash") -> gemini-2.5-flash ("models/" and "vendor/" prefixes go)
    get("claude-sonnet-4-5")       -> claude-sonnet-4-5-20250929 (an alias the file lists)
    get("ft:gpt-4o-mini:acme::x1") -> gpt-4o-mini's data (a fine-tune inherits its base)
    get("claude-sonnet-4-5-thinking") -> its base, thinking on every request (new-api's suffix)

The catalog is open by default: a name it doesn't list is served as its family's model
(`mockserver.core.model_families`), since clients send next month's names today. A strict
catalog (`catalog: strict` in a scenario, `serve --catalog strict`) answers those with the
vendor's 404. The listed models are what `/v1/models` shows either way.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from msgspec import Struct
from msgspec.structs import replace

from mockserver.core import model_families
from mockserver.core.cache_files import packaged_yaml

if TYPE_CHECKING:
    from mockserver.scenario import LatencySpec

ModelKind = Literal[
    "chat",
    "completion",
    "embedding",
    "audio_transcription",
    "speech",
    "image",
    "moderation",
    "rerank",
]
EncodingName = Literal["o200k_base", "cl100k_base"]

DEFAULT_ENCODING: EncodingName = "o200k_base"
_BUILTIN_RESOURCE = "data/models.yaml"
_RESOLVE_CACHE_SIZE = 1024

# Snapshot suffixes, stripped one at a time from the end: "-2024-08-06" (OpenAI), "-20250929"
# (Anthropic), "-0613" (old OpenAI), "-001" (Gemini), "-latest", "-preview-05-20", "-exp".
_SNAPSHOT_SUFFIX = re.compile(
    r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}|latest|(?:preview|exp)(?:-\d{2}-\d{2}|-\d{4})?)$"
)
_MAX_SUFFIXES = 3


class CatalogError(ValueError):
    """A model entry that is malformed: names where, what was expected and what arrived."""


class ModelInfo(Struct, frozen=True):
    """One model. `context_window` is the input limit for models that only take input;
    `max_output_tokens` is 0 for models with no text output; `dimensions` is for embeddings;
    `latency` paces every answer of the model (a scenario's `models:` entry may set it).
    `reasoning`: the model can think; `reasons_by_default`: it thinks on a request that doesn't
    ask (OpenAI's o-series and gpt-5, DeepSeek's reasoner), where Claude and Gemini wait to be
    asked."""

    id: str
    owned_by: str = "custom"
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    encoding: EncodingName = DEFAULT_ENCODING
    kind: ModelKind = "chat"
    reasoning: bool = False
    reasons_by_default: bool = False
    dimensions: int | None = None
    created: int = 1_700_000_000
    aliases: tuple[str, ...] = ()
    latency: LatencySpec | None = None


_FIELDS = ModelInfo.__struct_fields__
_CHOICES: dict[str, tuple[str, ...]] = {
    "encoding": get_args(EncodingName),
    "kind": get_args(ModelKind),
}


def _expect(where: str, key: str, value: Any, wanted: str) -> CatalogError:
    return CatalogError(f"{where}: {key!r} must be {wanted}, got {value!r}")


def _checked(where: str, key: str, value: Any) -> Any:
    """The value of one field, or a CatalogError saying what was expected."""
    if key in ("id", "owned_by"):
        if not isinstance(value, str) or not value:
            raise _expect(where, key, value, "a non-empty string")
        return value
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise _expect(where, key, value, "one of " + ", ".join(_CHOICES[key]))
        return value
    if key in ("reasoning", "reasons_by_default"):
        if not isinstance(value, bool):
            raise _expect(where, key, value, "true or false")
        return value
    if key == "aliases":
        if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
            raise _expect(where, key, value, "a list of model ids")
        return tuple(value)
    if key in ("dimensions", "latency") and value is None:
        return None
    if key == "latency":
        return _latency(where, value)
    minimum = 0 if key == "max_output_tokens" else 1
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    wanted = "a non-negative integer" if minimum == 0 else "a positive integer"
    raise _expect(where, key, value, wanted + (" or null" if key == "dimensions" else ""))


def _latency(where: str, value: Any) -> LatencySpec:
    from pydantic import ValidationError

    from mockserver.scenario import LatencySpec

    if not isinstance(value, Mapping):
        raise _expect(where, "latency", value, "a mapping like {ttft: 0.5, tokens_per_second: 50}")
    try:
        return LatencySpec.model_validate({k: v for k, v in value.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise CatalogError(f"{where}: latency.{path}: {first['msg']}") from None


def model_from_mapping(data: Mapping[str, Any], where: str) -> ModelInfo:
    """A ModelInfo from YAML-shaped data; only `id` is required, the rest have defaults.

    model_from_mapping({"id": "my-model", "context_window": 8192}, "scenario.yaml models[0]")
    """
    if not isinstance(data, Mapping):
        raise _expect(where, "model", data, "a mapping with at least an 'id'")
    for key in data:
        if key not in _FIELDS:
            close = difflib.get_close_matches(str(key), _FIELDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CatalogError(
                f"{where}: unknown key {key!r}; expected one of {', '.join(_FIELDS)}{hint}"
            )
    if "id" not in data:
        raise CatalogError(f"{where}: missing 'id'")
    values = {key: _checked(where, key, value) for key, value in data.items()}
    return ModelInfo(**values)


class Catalog:
    """Models by id, in listing order. Immutable: `with_extra` and `strict` return a new
    catalog. `open`: names it doesn't list are served as their family's model."""

    __slots__ = ("_aliases", "_infer", "_models", "_resolve", "open")

    def __init__(self, models: Iterable[ModelInfo], *, open: bool = True) -> None:
        self.open = open
        self._models: dict[str, ModelInfo] = {}
        for model in models:
            self._models[model.id] = model  # a later entry replaces an earlier one in place
        self._aliases = {
            alias: model.id for model in self._models.values() for alias in model.aliases
        }
        self._resolve = functools.lru_cache(maxsize=_RESOLVE_CACHE_SIZE)(self._lookup)
        self._infer = functools.lru_cache(maxsize=_RESOLVE_CACHE_SIZE)(self._inferred)

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        mode = "open" if self.open else "strict"
        return f"Catalog({len(self._models)} models, {mode})"

    def all(self) -> list[ModelInfo]:
        return list(self._models.values())

    def get(self, model_id: str) -> ModelInfo | None:
        """The model for an id, an alias, a dated snapshot, a prefixed name, a fine-tune or a
        suffixed name of a listed model; when the catalog is open, any other name as its
        family's model. None: a strict catalog doesn't know the name."""
        found = self._models.get(model_id)
        if found is None:
            found = self._resolve(model_id)
        if found is None and self.open:
            found = self._infer(model_id)
        return found

    def known(self, model_id: str) -> bool:
        """Whether the name is a listed model (or an alias, snapshot... of one)."""
        return model_id in self._models or self._resolve(model_id) is not None

    def inferred(self, model_id: str) -> ModelInfo | None:
        """`get`, open or not: what the catalog knows, else the name's family's model (None
        only for an empty name)."""
        return self.get(model_id) or self._infer(model_id)

    def encoding_for(self, model_id: str) -> EncodingName:
        """The tokenizer to count `model_id` with (its family's for an unlisted name)."""
        found = self.inferred(model_id)
        return found.encoding if found is not None else DEFAULT_ENCODING

    def with_extra(self, entries: Iterable[ModelInfo]) -> Catalog:
        """This catalog plus `entries` (scenario-defined models), which win on an id clash."""
        return Catalog([*self._models.values(), *entries], open=self.open)

    def strict(self, strict: bool = True) -> Catalog:
        """This catalog, serving only the names it knows (or, with False, any name)."""
        if self.open != strict:
            return self
        return Catalog(self._models.values(), open=not strict)

    def _listed(self, name: str) -> ModelInfo | None:
        found = self._models.get(name)
        if found is None and name in self._aliases:
            found = self._models[self._aliases[name]]
        return found

    def _lookup(self, model_id: str) -> ModelInfo | None:
        """A listed model, or one derived from a listed model (snapshot, fine-tune, suffix)."""
        name = _bare(model_id)
        found = self._listed(name)
        if found is not None:
            return found
        base = name
        for _ in range(_MAX_SUFFIXES):
            match = _SNAPSHOT_SUFFIX.search(base)
            if match is None or match.start() == 0:
                break
            base = base[: match.start()]
            found = self._listed(base)
            if found is not None:
                return replace(found, id=name, aliases=())
        return _derived(name, self._resolve)

    def _inferred(self, model_id: str) -> ModelInfo | None:
        """An unlisted name as its family's model (fine-tunes and suffixes of it included)."""
        name = _bare(model_id)
        if not name:
            return None
        derived = _derived(name, self._infer)
        if derived is not None:
            return derived
        facts = model_families.facts_for(name)
        return ModelInfo(id=name, **facts)


def _bare(model_id: str) -> str:
    """The name without Gemini's "models/" or a router's "vendor/" prefix ("ft:" ids keep
    their colons)."""
    name = model_id.removeprefix("models/")
    return name if name.startswith("ft:") else name.rsplit("/", 1)[-1]


def _derived(name: str, base_of: Callable[[str], ModelInfo | None]) -> ModelInfo | None:
    """A fine-tune (`ft:<base>:<org>:...`) or a gateway thinking suffix of a model `base_of`
    finds: the base's data under the name asked for."""
    base_name = model_families.fine_tuned_base(name)
    if base_name is not None:
        base = base_of(base_name)
        if base is None:
            return None
        owner = model_families.fine_tune_owner(name) or base.owned_by
        return replace(base, id=name, aliases=(), owned_by=owner)
    suffixed = model_families.thinking_suffix(name)
    if suffixed is not None:
        base = base_of(suffixed[0])
        if base is None:
            return None
        thinks = suffixed[1]  # "-nothinking": never, not even on Gemini's own route
        return replace(base, id=name, aliases=(), reasoning=thinks, reasons_by_default=thinks)
    return None


_REQUIRED_IN_BUILTIN = frozenset(_FIELDS) - {
    "dimensions",
    "aliases",
    "latency",
    "reasons_by_default",
}


def parse_catalog(document: Any, source: str, *, complete: bool = False) -> list[ModelInfo]:
    """The `models:` list of a YAML document; `complete` requires every field to be given."""
    entries = document.get("models") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise CatalogError(f"{source}: expected a mapping with a 'models' list")
    models: list[ModelInfo] = []
    names: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{source} models[{index}]"
        model = model_from_mapping(entry, where)
        if complete and (missing := sorted(_REQUIRED_IN_BUILTIN - set(entry))):
            raise CatalogError(f"{where} ({model.id}): missing {', '.join(missing)}")
        for name in (model.id, *model.aliases):
            if name in names:
                raise CatalogError(f"{where}: {name!r} is already used by {names[name]}")
            names[name] = where
        models.append(model)
    return models


@functools.cache
def load_builtin() -> Catalog:
    """The catalog shipped with the package (read once per process)."""
    document = packaged_yaml(_BUILTIN_RESOURCE)
    return Catalog(parse_catalog(document, f"mockserver/{_BUILTIN_RESOURCE}", complete=True))
