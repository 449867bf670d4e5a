"""Isolate the calls the service refuses when it refuses a whole ``/batch`` request.

In strict mode (``X-Strict-Mode: 1``) the service answers a request that holds
a call it cannot use with HTTP 400 and accepts none of its calls; it does not
say which call it means. One bad call would then fail a whole batch of some
1,800 rows. Instead, a refused batch is split in halves and each half is sent
again, recursively: halves the service accepts are ``sent``, and a refused
half of one call is that call, which becomes ``rejected`` with the service's
reason.

Cost, for a batch of ``n`` calls of which ``k`` are refused: about
``2 * k * log2(n / k)`` extra requests (22 for one refused call in a full
500 KB batch of 1,800 calls; each level of the search re-sends the refused
half's bytes, about 1 MB in all), and about ``log2(n)`` round trips one after
another (11), since a half is known to need splitting only once it is
answered; the two halves of a level travel at the same time.
The extra requests go through the client like any other (the rate limiter,
retries, the stop flag), are counted in the ``attempts`` of the rows they
carried and in the send's ``requests``, and are capped per send: once
``max_split_requests`` extra bodies were sent, a refused batch is no longer
split and its rows are ``failed`` with a reason that says so.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator

from ..outcome.results import SendStats
from ..prepare.batching import Batch
from .transport import Delivery

__all__ = ["DEFAULT_MAX_SPLIT_REQUESTS", "REFUSED_STATUSES", "Splitter"]

#: HTTP statuses that mean "the service refused something in this body":
#: strict mode's validation failure. Not retried, and worth splitting.
REFUSED_STATUSES = frozenset({400})

#: Extra bodies one send may make to isolate refused calls: enough for about
#: 90 refused calls in full batches (22 each), while a body the service
#: refuses whatever it holds costs at most this many requests, about a
#: second of the service's rate limit.
DEFAULT_MAX_SPLIT_REQUESTS = 2_000


class Splitter:
    """Split refused batches and feed the halves back to the sender, within a cap.

    The pipeline sends the batches :meth:`feed` yields; for each answer it
    asks :meth:`refused`, and for a refused batch of several calls
    :meth:`split`, which queues the halves. :meth:`feed` yields queued halves
    before new batches, numbering every batch in the order it is sent.

    Parameters
    ----------
    stats : SendStats
        The send's counters; ``split_batches`` counts the halves sent.
    limit : int
        The most halves one send may queue (see the module docstring).
    """

    def __init__(self, stats: SendStats, limit: int = DEFAULT_MAX_SPLIT_REQUESTS) -> None:
        if limit < 0:
            raise ValueError(f"max_split_requests must be 0 or more, not {limit!r}")
        self.stats = stats
        self.limit = limit
        self.queued: deque[Batch] = deque()
        self._made = 0
        self._number = 0

    @staticmethod
    def refused(delivery: Delivery) -> bool:
        """True when the service refused the request's content (strict mode's 400)."""
        return not delivery.ok and not delivery.auth_failed and delivery.status in REFUSED_STATUSES

    def split(self, batch: Batch) -> bool:
        """Queue the halves of a refused batch of two or more calls; False over the cap."""
        if self._made + 2 > self.limit:
            return False
        self.queued.extend(batch.halves())
        self._made += 2
        return True

    def feed(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        """Yield queued halves first, then the next of ``batches``, until both run out.

        Halves queued after this generator ended are yielded by the next
        call (a new round of sending). Every batch gets the next number, so
        rows that share a number shared one request.
        """
        while True:
            if self.queued:
                batch = self.queued.popleft()
                self.stats.split_batches += 1
            else:
                found = next(batches, None)
                if found is None:
                    return
                batch = found
            yield dataclasses.replace(batch, number=self._number)
            self._number += 1

    def rejected_reason(self, delivery: Delivery) -> str:
        """The reason of a call the service refused alone."""
        return f"the service refused this call: {delivery.error or f'HTTP {delivery.status}'}"

    def unisolated_reason(self, delivery: Delivery, stopping: bool) -> str:
        """The reason of the rows of a refused batch that was not split further."""
        what = delivery.error or f"HTTP {delivery.status}"
        if stopping:
            return f"{what}; the calls it refused were not isolated: the send stopped"
        return (
            f"{what}; the calls it refused were not isolated: this send already made "
            f"{self._made:,} extra requests to isolate refused calls, its limit "
            "(max_split_requests=); the batch holds a call the service refuses, so re-send "
            "these rows with a higher max_split_requests= to find it"
        )
