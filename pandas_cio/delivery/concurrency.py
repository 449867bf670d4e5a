"""How many requests a send keeps in flight: grown while the link takes more, cut on congestion.

:class:`Concurrency` is an AIMD controller in the manner of TCP's congestion
window, told about every attempt's end (it is an
:class:`~pandas_cio.delivery.transport.AttemptObserver`, like the circuit breaker):

* **growth**: it starts at :data:`START` requests and, until the first sign
  of congestion, adds one per answered attempt (the limit doubles each round
  trip: "slow start"); afterwards it adds ``1 / limit`` per answer (one per
  round trip).
* **congestion**: an attempt that got no answer from the service (a 429, a
  5xx, a timeout, a network error) halves the limit; an answered attempt
  whose smoothed latency has risen above :data:`LATENCY_RISE` times the
  fastest seen (and :data:`LATENCY_SLACK` seconds more) cuts it by
  :data:`LATENCY_CUT`. One cut per round trip: attempts that started before
  the last cut do not cut again (they were sent at the old limit).
* **bounds**: never below 1, never above the cap (``Client(workers=)``).

The rate limiter stays in charge of requests per second (retries included);
this only decides how many may wait for an answer at once. Throughput at a
given latency is ``in flight / latency`` requests a second, so on a slow link
the limit grows until the rate limit, the cap or the encoder (the CPU) is the
bottleneck, and each of those shows up as a 429 or as rising latency.

The controller is pure bookkeeping: every method takes the clock readings it
needs, so its logic is testable without threads or a network.
"""

from __future__ import annotations

import math
import threading
import time

__all__ = ["LATENCY_CUT", "LATENCY_RISE", "LATENCY_SLACK", "START", "Concurrency", "Gate"]

# Sixteen requests of up to 500 KB at once are well inside what the service
# takes (1,000 requests a second); starting there saves the round trips slow
# start would spend getting to it on a slow link.
START = 16
# Rising latency: the smoothed latency above LATENCY_RISE times the fastest
# answer seen and LATENCY_SLACK seconds more (so that scheduling noise on a
# fast local link is not taken for a queue). Relative, so a 200 ms link
# tolerates the tens of milliseconds a busy encoder adds to a thread's wake-up.
LATENCY_RISE = 2.0
LATENCY_SLACK = 0.010
LATENCY_CUT = 0.8
_NO_ANSWER_CUT = 0.5
# Weight of the newest latency in the smoothed latency.
_SMOOTHING = 0.2


class Concurrency:
    """The in-flight limit of one send (thread-safe).

    Parameters
    ----------
    cap : int
        The most requests in flight (``Client(workers=)``).
    adaptive : bool
        False: the limit is ``cap`` throughout (the fixed pool of earlier
        versions).

    Examples
    --------
    >>> c = Concurrency(cap=64)
    >>> c.limit
    16
    >>> for _ in range(16):  # one round trip's answers
    ...     c.ended(started=0.0, now=0.05, answered=True)
    >>> c.limit
    32
    >>> c.ended(started=0.1, now=0.2, answered=False)  # a 429: halved
    >>> c.limit
    16
    """

    def __init__(self, cap: int, *, adaptive: bool = True) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.cap = cap
        self.adaptive = adaptive
        self._window = float(min(cap, START) if adaptive else cap)
        self._slow_start = True
        self._fastest = math.inf
        self._smoothed: float | None = None
        self._last_cut = -math.inf
        self.cuts = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """Requests that may be in flight now: between 1 and ``cap``."""
        return max(1, min(self.cap, int(self._window)))

    def attempt_ended(self, started: float, alive: bool) -> None:
        """The observer interface the transport calls (``alive``: the service answered)."""
        self.ended(started, time.monotonic(), alive)

    def ended(self, started: float, now: float, answered: bool) -> None:
        """Record one attempt that started at ``started`` and ended at ``now`` (monotonic s).

        ``answered``: the service itself answered (a 2xx or a JSON 4xx), not
        a 429, a 5xx, a timeout or a network error.
        """
        if not self.adaptive:
            return
        with self._lock:
            if not answered:
                self._cut(started, now, _NO_ANSWER_CUT)
                return
            latency = max(0.0, now - started)
            self._fastest = min(self._fastest, latency)
            smoothed = (
                latency
                if self._smoothed is None
                else (1 - _SMOOTHING) * self._smoothed + _SMOOTHING * latency
            )
            self._smoothed = smoothed
            if smoothed > LATENCY_RISE * self._fastest + LATENCY_SLACK:
                if self._cut(started, now, LATENCY_CUT):
                    # The queue the cut drains inflated the average: start it afresh.
                    self._smoothed = latency
                return
            if self._slow_start:
                self._window = min(float(self.cap), self._window + 1.0)
            else:
                self._window = min(float(self.cap), self._window + 1.0 / self._window)

    def _cut(self, started: float, now: float, factor: float) -> bool:
        self._slow_start = False
        if started < self._last_cut:
            return False  # sent at the old limit: that congestion is already answered
        self._window = max(1.0, self._window * factor)
        self._last_cut = now
        self.cuts += 1
        return True


class Gate:
    """A counting gate whose size follows a :class:`Concurrency` (the workers pass it).

    Worker threads call :meth:`enter` before a request and :meth:`leave`
    after; :meth:`open` lets every waiting thread through (at shutdown).
    """

    def __init__(self, concurrency: Concurrency) -> None:
        self.concurrency = concurrency
        self.inside = 0
        self._opened = False
        self._condition = threading.Condition()

    def enter(self) -> None:
        with self._condition:
            while not self._opened and self.inside >= self.concurrency.limit:
                # Woken by leave(); the timeout notices a limit that grew meanwhile.
                self._condition.wait(0.05)
            self.inside += 1

    def leave(self) -> None:
        with self._condition:
            self.inside -= 1
            self._condition.notify_all()

    def open(self) -> None:
        with self._condition:
            self._opened = True
            self._condition.notify_all()
