"""What an executor needs to make its own client: settings without the key, and its rate share.

A :class:`~pandas_cio.Client` refuses to be pickled (it holds open connections),
so the driver ships its :class:`~pandas_cio.delivery.settings.ClientSettings` (the one
description of a client, with every option: ``ca_bundle=``, ``proxies=``,
``strict=``, the breaker...) without the key, and every Spark task builds a
short-lived client from it with ``Client.from_settings(settings, key)``. The API key travels
separately, in a broadcast variable (see :mod:`pandas_cio.spark`).

The service's limit is global, but every task has its own limiter, so the
budget is divided: with at most ``k`` tasks running at once, each gets
``requests // k`` per window. Dividing alone is not enough, because a task that
ends is followed at once by the next task on the same core, whose new limiter
knows nothing of the requests its predecessor sent in the last window; two
bursts back to back would put twice the share into one window. So each task's
share is also *paced*: at most ``burst`` requests in any slice of
``slice_ms`` milliseconds (bursts of a few dozen requests, not thousands), and
a task waits one slice before its first request. Consecutive tasks on one core
then behave like a single paced sender, and ``k`` paced senders never exceed
the global rate in any window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..delivery.settings import ClientSettings
from ..delivery.transport import RateLimit
from ..errors import ConfigurationError

__all__ = ["ClientSettings", "TaskRate", "share_rate"]

# Shortest pacing slice: long enough that pyrate-limiter's whole-millisecond
# clock loses little precision, short enough that a burst stays a small
# fraction of the share (3,000 per 3 s over one task: 47 requests per 51 ms).
MIN_SLICE_MS = 50


@dataclass(frozen=True)
class TaskRate:
    """The pacing one Spark task follows: at most ``burst`` requests in any ``slice_ms``.

    Attributes
    ----------
    burst : int
        Requests allowed in one slice.
    slice_ms : int
        Length of a slice in milliseconds.
    """

    burst: int
    slice_ms: int

    @property
    def limit(self) -> RateLimit:
        """The limit a task's client enforces (the margin is already in the slice)."""
        # + 0.5 ms so that make_limiter's int() truncation lands on slice_ms exactly.
        return RateLimit(self.burst, (self.slice_ms + 0.5) / 1000, margin=0.0)

    @property
    def start_delay(self) -> float:
        """Seconds a task waits before its first request: one slice, so that it
        never adds to the last burst of the task that ran before it on the core."""
        return self.slice_ms / 1000

    def per_window(self, seconds: float) -> int:
        """Most requests this pacing allows in any window of ``seconds``."""
        return self.burst * math.ceil(seconds * 1000 / self.slice_ms)


def share_rate(rate: RateLimit, tasks: int) -> TaskRate:
    """Divide a global rate limit among ``tasks`` tasks that may run at once.

    Parameters
    ----------
    rate : RateLimit
        The global limit (the service's: 3,000 requests per 3 s).
    tasks : int
        How many tasks may send at the same time.

    Returns
    -------
    TaskRate
        A pacing whose :meth:`~TaskRate.per_window` over ``rate.seconds +
        rate.margin`` is at most ``rate.requests // tasks``.

    Raises
    ------
    ConfigurationError
        ``tasks`` is below 1, or so large that a task's share is no request.
    """
    if tasks < 1:
        raise ConfigurationError(f"max_concurrent_tasks must be at least 1, not {tasks}")
    share = rate.requests // tasks
    if share < 1:
        raise ConfigurationError(
            f"a limit of {rate.requests} requests per {rate.seconds:g} s cannot be shared by "
            f"{tasks} concurrent tasks; lower max_concurrent_tasks (or coalesce the frame)"
        )
    # The margin stays the client's allowance for arrival jitter: pacing is
    # computed over the longer client-side window, as a single client does.
    window_ms = (rate.seconds + rate.margin) * 1000
    burst = max(1, min(share, math.ceil(MIN_SLICE_MS * share / window_ms)))
    # One millisecond more than the exact spacing: the limiter's clock is
    # whole milliseconds, and rounding must never shorten a slice.
    slice_ms = math.ceil(burst * window_ms / share) + 1
    while burst * math.ceil(window_ms / slice_ms) > share:
        slice_ms += 1
    return TaskRate(burst, slice_ms)
