"""The models the gateway lists, their limits and tokenizers (`mockserver/data/models.yaml`).

Lookups accept the ids clients actually send, not only the listed ones:

    get("gpt-4o")                  -> gpt-4o
    get("gpt-4o-2024-08-06")       -> gpt-4o's data, id "gpt-4o-2024-08-06" (dated snapshot)
    get("models/gemini-2.5-flash") -> gemini-2.5-flash ("models/" and "vendor/" prefixes go)
    get("claude-sonnet-4-5")       -> claude-sonnet-4-5-20250929 (an alias the file lists)
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from msgspec import Struct
from msgspec.structs import replace

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
    `latency` paces every answer of the model (a scenario's `models:` entry may set it)."""

    id: str
    owned_by: str = "custom"
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    encoding: EncodingName = DEFAULT_ENCODING
    kind: ModelKind = "chat"
    reasoning: bool = False
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
    if key == "reasoning":
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
    """Models by id, in listing order. Immutable: `with_extra` returns a new catalog."""

    __slots__ = ("_aliases", "_models", "_resolve")

    def __init__(self, models: Iterable[ModelInfo]) -> None:
        self._models: dict[str, ModelInfo] = {}
        for model in models:
            self._models[model.id] = model  # a later entry replaces an earlier one in place
        self._aliases = {
            alias: model.id for model in self._models.values() for alias in model.aliases
        }
        self._resolve = functools.lru_cache(maxsize=_RESOLVE_CACHE_SIZE)(self._lookup)

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        return f"Catalog({len(self._models)} models)"

    def all(self) -> list[ModelInfo]:
        return list(self._models.values())

    def get(self, model_id: str) -> ModelInfo | None:
        """The model for an id, an alias, a dated snapshot or a prefixed name; None if unknown."""
        found = self._models.get(model_id)
        return found if found is not None else self._resolve(model_id)

    def encoding_for(self, model_id: str) -> EncodingName:
        """The tokenizer to count `model_id` with; unknown models use o200k_base."""
        found = self.get(model_id)
        return found.encoding if found is not None else DEFAULT_ENCODING

    def with_extra(self, entries: Iterable[ModelInfo]) -> Catalog:
        """This catalog plus `entries` (scenario-defined models), which win on an id clash."""
        return Catalog([*self._models.values(), *entries])

    def _listed(self, name: str) -> ModelInfo | None:
        found = self._models.get(name)
        if found is None and name in self._aliases:
            found = self._models[self._aliases[name]]
        return found

    def _lookup(self, model_id: str) -> ModelInfo | None:
        name = model_id.removeprefix("models/").rsplit("/", 1)[-1]
        found = self._listed(name)
        if found is not None:
            return found
        base = name
        for _ in range(_MAX_SUFFIXES):
            match = _SNAPSHOT_SUFFIX.search(base)
            if match is None or match.start() == 0:
                return None
            base = base[: match.start()]
            found = self._listed(base)
            if found is not None:
                return replace(found, id=name, aliases=())
        return None


_REQUIRED_IN_BUILTIN = frozenset(_FIELDS) - {"dimensions", "aliases", "latency"}


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
