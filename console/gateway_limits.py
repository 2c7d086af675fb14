"""Rate limits of the public endpoints, through the ``limits`` library.

Counters live in the storage named by ``LEADGUARD_CONSOLE_RATE_LIMIT_STORAGE``
(``memory://`` by default; ``redis://host:6379/2`` in production so that
every console replica counts together). A moving window is used, so a burst
at a window's edge cannot double the allowance.

Keys are the client address or the opaque chat session id, never message
contents; per-address keys of self-service requests may be blind indexes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from leads.errors import ConfigurationError

log = logging.getLogger(__name__)

KEY_PREFIX = "leadguard-public"


@dataclass(frozen=True)
class LimitVerdict:
    """Whether a hit was allowed and, if not, how long to wait."""

    allowed: bool
    retry_after: int = 0


def parse_rate(setting: str, value: str) -> RateLimitItem:
    """Parse a rate such as ``20/minute``.

    Raises:
        ConfigurationError: the rate is malformed; the message names the
            setting.
    """
    try:
        return parse(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"LEADGUARD_{setting.upper()}: not a rate like 20/minute"
        ) from exc


def open_storage(url: str) -> Storage:
    """Open the async variant of a ``limits`` storage URL.

    Raises:
        ConfigurationError: the URL names no storage ``limits`` supports.
    """
    async_url = url if url.startswith("async+") else f"async+{url}"
    options: dict[str, str | float | bool] = {"wrap_exceptions": True}
    if "redis" in async_url:
        options.update(implementation="redispy", key_prefix=KEY_PREFIX)
    try:
        storage = storage_from_string(async_url, **options)
    except Exception as exc:  # limits raises several unrelated types here
        raise ConfigurationError(
            "LEADGUARD_CONSOLE_RATE_LIMIT_STORAGE: not a supported storage URL"
        ) from exc
    if not isinstance(storage, Storage):
        raise ConfigurationError(
            "LEADGUARD_CONSOLE_RATE_LIMIT_STORAGE: not a supported storage URL"
        )
    return storage


class PublicRateLimiter:
    """Counts hits per key and says when a key is over its rate."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def aclose(self) -> None:
        """Close the storage's connections (Redis), e.g. at shutdown.

        ``limits`` has no public close; its Redis bridge keeps the client
        as ``bridge.storage``.
        """
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()

    async def hit(self, rate: RateLimitItem, scope: str, key: str) -> LimitVerdict:
        """Count one hit of ``key`` in ``scope`` against ``rate``.

        A storage failure (Redis down) lets the request through and logs
        it: refusing every visitor because a counter is unreachable would
        turn a Redis outage into a site outage. Message size limits and the
        signed session still apply.
        """
        try:
            if await self._limiter.hit(rate, scope, key):
                return LimitVerdict(True)
            stats = await self._limiter.get_window_stats(rate, scope, key)
        except StorageError as exc:
            log.warning("ratelimit.storage_unavailable error=%s", type(exc).__name__)
            return LimitVerdict(True)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return LimitVerdict(False, wait)
