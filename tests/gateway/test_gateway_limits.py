"""Rate limits shared through Redis, as console replicas use them."""

from __future__ import annotations

import secrets
import socket

import pytest
import redis
from limits import parse

from console.gateway_limits import KEY_PREFIX, PublicRateLimiter, open_storage
from leads.errors import ConfigurationError

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def scope() -> str:
    return f"test-{secrets.token_hex(4)}"


@pytest.mark.integration
async def test_two_replicas_count_together(scope: str) -> None:
    rate = parse("3/minute")
    first = PublicRateLimiter(open_storage(REDIS_URL))
    second = PublicRateLimiter(open_storage(REDIS_URL))

    verdicts = [
        await limiter.hit(rate, scope, "203.0.113.7")
        for limiter in (first, second, first, second)
    ]

    await first.aclose()
    await second.aclose()
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 1 <= verdicts[-1].retry_after <= 60
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = client.keys(f"{KEY_PREFIX}*{scope}*")
        assert keys, "counters live in Redis under the gateway's prefix"
        assert all(b"203.0.113.7" in key for key in keys)
        client.delete(*keys)
    finally:
        client.close()


async def test_memory_storage_counts_per_key(scope: str) -> None:
    limiter = PublicRateLimiter(open_storage("memory://"))
    rate = parse("2/minute")
    assert (await limiter.hit(rate, scope, "a")).allowed
    assert (await limiter.hit(rate, scope, "a")).allowed
    assert not (await limiter.hit(rate, scope, "a")).allowed
    assert (await limiter.hit(rate, scope, "b")).allowed


async def test_unreachable_redis_lets_visitors_through(
    scope: str, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    limiter = PublicRateLimiter(open_storage(f"redis://127.0.0.1:{port}/0"))

    verdict = await limiter.hit(parse("1/minute"), scope, "a")
    await limiter.aclose()

    assert verdict.allowed
    assert "ratelimit.storage_unavailable" in caplog.text


def test_unknown_storage_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_STORAGE"):
        open_storage("carrier-pigeon://nowhere")
