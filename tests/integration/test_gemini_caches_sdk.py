"""Gemini's explicit caches through google-genai: `client.caches.create/get/list/update/delete`
and a generateContent that names one, sync and async, on the task clock."""

from __future__ import annotations

import datetime

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.testing.handle import MockServer

MODEL = "gemini-2.5-flash"
HANDBOOK = "Section: every employee reads the security policy before the first day. " * 150
SCENARIO = "scenarios/gemini_cached_contents.yaml"
EPOCH = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)  # the scenario's `clock`


def cache_config(**extra: object) -> types.CreateCachedContentConfig:
    return types.CreateCachedContentConfig(
        display_name="handbook",
        system_instruction="Answer from the handbook only.",
        contents=[types.Content(role="user", parts=[types.Part(text=HANDBOOK)])],
        **extra,  # type: ignore[arg-type]
    )


def test_create_get_generate_update_list_delete(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)
    client = mockserver.genai_client()

    cache = client.caches.create(model=MODEL, config=cache_config(ttl="600s"))
    assert cache.name is not None and cache.name.startswith("cachedContents/")
    assert cache.model == f"models/{MODEL}"
    assert cache.display_name == "handbook"
    assert cache.create_time == EPOCH
    assert cache.expire_time == EPOCH + datetime.timedelta(seconds=600)
    assert cache.usage_metadata is not None
    cached_tokens = cache.usage_metadata.total_token_count
    assert cached_tokens is not None and cached_tokens >= 1024

    got = client.caches.get(name=cache.name)
    assert got.name == cache.name and got.expire_time == cache.expire_time

    reply = client.models.generate_content(
        model=MODEL,
        contents="What must employees read?",
        config=types.GenerateContentConfig(cached_content=cache.name),
    )
    assert reply.text == "Everyone reads the security policy before the first day."
    usage = reply.usage_metadata
    assert usage is not None and usage.prompt_token_count is not None
    assert usage.cached_content_token_count == cached_tokens
    assert usage.prompt_token_count > cached_tokens  # the question on top of the cache

    mockserver.advance_clock(300)
    updated = client.caches.update(
        name=cache.name, config=types.UpdateCachedContentConfig(ttl="3600s")
    )
    assert updated.expire_time == EPOCH + datetime.timedelta(seconds=300 + 3600)
    assert updated.update_time == EPOCH + datetime.timedelta(seconds=300)

    assert [c.name for c in client.caches.list()] == [cache.name]
    client.caches.delete(name=cache.name)
    assert list(client.caches.list()) == []
    with pytest.raises(genai_errors.ClientError) as raised:
        client.caches.get(name=cache.name)
    assert raised.value.code == 403
    assert raised.value.message == "CachedContent not found (or permission denied)"


def test_a_cache_expires_on_the_task_clock(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    cache = client.caches.create(model=MODEL, config=cache_config(ttl="60s"))
    assert cache.name is not None
    mockserver.advance_clock(61)

    with pytest.raises(genai_errors.ClientError) as raised:
        client.models.generate_content(
            model=MODEL,
            contents="Still there?",
            config=types.GenerateContentConfig(cached_content=cache.name),
        )
    assert raised.value.code == 403
    assert raised.value.status == "PERMISSION_DENIED"


def test_list_pages(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    names = [client.caches.create(model=MODEL, config=cache_config()).name for _ in range(3)]
    assert len(set(names)) == 3

    pager = client.caches.list(config=types.ListCachedContentsConfig(page_size=2))
    assert len(pager.page) == 2
    assert [c.name for c in pager] == names  # the pager fetches the second page itself


def test_refusals(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    with pytest.raises(genai_errors.ClientError) as small:
        client.caches.create(
            model=MODEL, config=types.CreateCachedContentConfig(contents=["too short"])
        )
    assert small.value.code == 400
    assert small.value.message is not None
    assert small.value.message.startswith("Cached content is too small. total_token_count=")
    assert small.value.message.endswith("min_total_token_count=1024")

    cache = client.caches.create(model=MODEL, config=cache_config())
    with pytest.raises(genai_errors.ClientError) as other_model:
        client.models.generate_content(
            model="gemini-2.5-flash-lite",
            contents="hi",
            config=types.GenerateContentConfig(cached_content=cache.name),
        )
    assert other_model.value.code == 400
    with pytest.raises(genai_errors.ClientError) as with_system:
        client.models.generate_content(
            model=MODEL,
            contents="hi",
            config=types.GenerateContentConfig(
                cached_content=cache.name, system_instruction="Be brief."
            ),
        )
    assert with_system.value.code == 400
    assert with_system.value.message is not None
    assert with_system.value.message.startswith("CachedContent can not be used with")
    with pytest.raises(genai_errors.ClientError) as unknown:
        client.caches.get(name="cachedContents/doesnotexist")
    assert unknown.value.code == 403


def test_another_key_cannot_see_a_cache(mockserver: MockServer) -> None:
    mine = mockserver.genai_client()
    theirs = mockserver.genai_client(api_key="another-gemini-key")
    cache = mine.caches.create(model=MODEL, config=cache_config())
    assert cache.name is not None

    assert list(theirs.caches.list()) == []
    with pytest.raises(genai_errors.ClientError) as raised:
        theirs.caches.get(name=cache.name)
    assert raised.value.code == 403


async def test_async_client_and_stream(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)
    client = mockserver.genai_client().aio
    cache = await client.caches.create(model=MODEL, config=cache_config())
    assert cache.name is not None and cache.usage_metadata is not None
    # The default TTL is one hour.
    assert cache.expire_time == EPOCH + datetime.timedelta(hours=1)

    last = None
    async for chunk in await client.models.generate_content_stream(
        model=MODEL,
        contents="What must employees read?",
        config=types.GenerateContentConfig(cached_content=cache.name),
    ):
        last = chunk
    assert last is not None and last.usage_metadata is not None
    assert last.usage_metadata.cached_content_token_count == cache.usage_metadata.total_token_count
    listed = [c.name async for c in await client.caches.list()]
    assert listed == [cache.name]
    await client.caches.delete(name=cache.name)
    assert [c async for c in await client.caches.list()] == []
