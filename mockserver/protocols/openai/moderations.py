"""OpenAI Moderations: `POST /v1/moderations`.

    request = parse_moderation(body, headers)    # APIError with the API's wording
    body = moderate(request, seed, rules)         # CreateModerationResponse

Every input (a string, each string of an array, or one multimodal array of text and image parts)
gets one result with all 13 categories. By default nothing is flagged and every score is small
and deterministic (1e-7 to 1e-2, hashed from seed, text and category). A scenario flags inputs
with `ModerationRules`: an input containing a rule's text (case-insensitive) is flagged in the
rule's categories with a high score (0.85 to 0.99).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct

from mockserver.core import ids
from mockserver.protocols.openai import validation as v

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# The categories the omni models also score on images (the spec's `category_applied_input_types`).
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
# The text-moderation models predate these two categories and report them as null.
OMNI_ONLY = frozenset({"illicit", "illicit/violent"})
DEFAULT_MODEL = "omni-moderation-latest"


class FlagRule(Struct, frozen=True):
    """Inputs whose text contains `contains` (case-insensitive) are flagged in `categories`."""

    contains: str
    categories: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.contains:
            raise ValueError("a moderation rule needs a non-empty 'contains' text")
        if not self.categories:
            raise ValueError(f"moderation rule for {self.contains!r} names no categories")
        for category in self.categories:
            if category not in CATEGORIES:
                near = difflib.get_close_matches(category, CATEGORIES, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ValueError(
                    f"unknown moderation category {category!r} (rule for {self.contains!r}); "
                    f"expected one of {', '.join(CATEGORIES)}{hint}"
                )


class ModerationRules(Struct, frozen=True):
    """A scenario's moderation flags, tried all together (their categories add up)."""

    flags: tuple[FlagRule, ...] = ()

    def categories_for(self, text: str) -> set[str]:
        folded = text.casefold()
        return {
            category
            for rule in self.flags
            if rule.contains.casefold() in folded
            for category in rule.categories
        }


NO_FLAGS = ModerationRules()


def flag(texts: Iterable[str], categories: Iterable[str]) -> ModerationRules:
    """Rules that flag any input containing one of `texts` in `categories`."""
    chosen = tuple(categories)
    return ModerationRules(tuple(FlagRule(text, chosen) for text in texts))


class ModerationInput(Struct, frozen=True):
    """One classified item: its text (parts joined with newlines) and how many images it has."""

    text: str
    images: int = 0


class ModerationRequest(Struct, frozen=True):
    model: str
    inputs: tuple[ModerationInput, ...]


def parse_moderation(body: Any, headers: Mapping[str, str]) -> ModerationRequest:
    v.require_bearer(headers)
    body = v.expect_object(body)
    model = v.typed(body, "model", "string", nullable=False) or DEFAULT_MODEL
    if "input" not in body:
        raise v.missing("input")
    raw = body["input"]
    if isinstance(raw, str):
        return ModerationRequest(model, (ModerationInput(raw),))
    if not isinstance(raw, list):
        raise v.bad(
            "Invalid type for 'input': expected one of a string, an array of strings or an "
            f"array of objects, but got {v.describe(raw)} instead.",
            "input",
            "invalid_type",
        )
    if raw and isinstance(raw[0], dict):
        return ModerationRequest(model, (_multimodal(raw),))
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise v.bad(
                f"Invalid type for 'input[{index}]': expected a string, but got "
                f"{v.describe(item)} instead.",
                f"input[{index}]",
                "invalid_type",
            )
    return ModerationRequest(model, tuple(ModerationInput(text) for text in raw))


def _multimodal(parts: list[Any]) -> ModerationInput:
    texts: list[str] = []
    images = 0
    for index, part in enumerate(parts):
        where = f"input[{index}]"
        if not isinstance(part, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(part)} "
                "instead.",
                where,
                "invalid_type",
            )
        kind = part.get("type")
        if kind is None:
            raise v.missing(f"{where}.type")
        v.one_of(kind, ("text", "image_url"), f"{where}.type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise v.missing(f"{where}.text")
            texts.append(text)
        else:
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise v.missing(f"{where}.image_url.url")
            images += 1
    return ModerationInput("\n".join(texts), images)


def moderate(
    request: ModerationRequest,
    seed: int,
    rules: ModerationRules | None = None,
    occurrence: int = 0,
) -> dict[str, Any]:
    """The response body; `occurrence` (how often this request was seen) varies only the id.
    `rules`: the scenarios' flags (None: they set none)."""
    rules = NO_FLAGS if rules is None else rules
    key = ids.digest(seed, request.model, [(i.text, i.images) for i in request.inputs])
    legacy = not request.model.startswith("omni-")
    return {
        "id": "modr-" + ids.hexchars(ids.digest(key, occurrence), "modr", 32),
        "model": request.model,
        "results": [_result(item, seed, rules, legacy) for item in request.inputs],
    }


def _result(
    item: ModerationInput, seed: int, rules: ModerationRules, legacy: bool
) -> dict[str, Any]:
    flagged = rules.categories_for(item.text)
    categories: dict[str, bool | None] = {}
    scores: dict[str, float] = {}
    applied: dict[str, list[str]] = {}
    for category in CATEGORIES:
        u = _uniform(seed, item.text, category)
        hit = category in flagged
        scores[category] = 0.85 + 0.14 * u if hit else 10.0 ** -(2.0 + 5.0 * u)
        categories[category] = None if legacy and category in OMNI_ONLY and not hit else hit
        kinds = ["text"] if item.text or not item.images else []
        if item.images and not legacy and category in IMAGE_CATEGORIES:
            kinds.append("image")
        applied[category] = kinds
    return {
        "flagged": bool(flagged),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def _uniform(seed: int, text: str, category: str) -> float:
    digest = hashlib.blake2b(
        f"{seed}\x1f{category}\x1f{text}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2.0**64
