"""Send rate limits: one global, one per recipient domain (``limits``).

The counters live in Redis when the broker is Redis, so every worker on
every machine shares them; otherwise they are in each worker process's
memory, and the limits apply per process (the README says so). Domains are
keyed by a hash, so the counters name no company.
"""

from __future__ import annotations

import hashlib
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from leads.settings import Settings

__all__ = ["SendThrottle"]

NAMESPACE = "leadguard-nurture"


class SendThrottle:
    """Asks whether one more email may go out now, globally and per domain."""

    def __init__(self, settings: Settings) -> None:
        shared = settings.broker_url.startswith(("redis://", "rediss://"))
        self._storage = storage_from_string(
            settings.broker_url if shared else "memory://"
        )
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._global = parse(settings.nurture_rate_global)
        self._per_domain = parse(settings.nurture_rate_per_domain)

    def __repr__(self) -> str:
        return f"SendThrottle({self._global}, {self._per_domain} per domain)"

    def acquire(self, domain: str) -> float:
        """Take one slot for ``domain``; return 0, or seconds to wait first.

        One counter increment per limit (two round trips on Redis). When
        the domain is full, the global slot just taken is not given back:
        the limits err on the side of sending less.
        """
        key = hashlib.sha256(domain.lower().encode()).hexdigest()[:16]
        limits = ((self._global, ("global",)), (self._per_domain, ("domain", key)))
        for item, identifiers in limits:
            if not self._limiter.hit(item, NAMESPACE, *identifiers):
                stats = self._limiter.get_window_stats(item, NAMESPACE, *identifiers)
                return max(0.01, stats.reset_time - time.time())
        return 0.0
