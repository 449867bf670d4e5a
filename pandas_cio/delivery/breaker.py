"""The circuit breaker: stop a send when the service looks down, instead of retrying for hours.

Without it, every batch of a send to a dead service makes all its attempts:
minutes per hundred thousand rows, and hours with long ``Retry-After``
answers. A :class:`Breaker` is the configuration (on the client); a
:class:`Circuit` is the state of one send, so a service that comes back is used
by the next send at once.

The circuit opens when either

* ``failed_batches`` batches in a row failed after all their retries with a
  sign of the service being down (network errors, timeouts, 429, 5xx, an
  answer that is not the service's), or
* for ``failing_seconds`` nothing the service answered itself: every attempt
  since the first failing one failed (waits for ``Retry-After`` count, so a
  ``Retry-After: 600`` does not hold the send for ten minutes).

Any answer of the service itself (2xx, or a JSON 4xx such as a strict-mode
400) closes the count again. When the circuit opens, the send stops taking
batches, waits ``probe_after`` seconds and sends one batch as a half-open
probe with a single attempt: if the service confirms it, the send goes on;
otherwise it ends with :class:`~pandas_cio.delivery.transport.CircuitOpen`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["DEFAULT_BREAKER", "Breaker", "Circuit"]


@dataclass(frozen=True)
class Breaker:
    """When a send gives up on a service that looks down.

    Attributes
    ----------
    failed_batches : int
        Consecutive batches failed after their retries that open the circuit.
        Ten: a flaky service whose batches fail one time in two after their
        retries still trips it only about once in a thousand batches, and
        with the default retries (seven attempts) a healthy-but-flaky
        service essentially never does.
    failing_seconds : float
        Seconds of nothing but failures (since the start of the first
        failing attempt) that open the circuit. Thirty: an outage that
        long rarely ends within the next minutes, and with the default
        backoff a batch has made six attempts by then.
    probe_after : float or None
        Seconds to wait, once the circuit opens, before the one-attempt probe
        that decides whether to go on; None gives up without a probe.
    """

    failed_batches: int = 10
    failing_seconds: float = 30.0
    probe_after: float | None = 5.0

    def __post_init__(self) -> None:
        if self.failed_batches < 1:
            raise ConfigurationError(
                f"breaker=Breaker(failed_batches={self.failed_batches}): must be at least 1; "
                "pass breaker=False to turn the breaker off"
            )
        if not self.failing_seconds > 0:
            raise ConfigurationError(
                f"breaker=Breaker(failing_seconds={self.failing_seconds}): must be above 0"
            )
        if self.probe_after is not None and self.probe_after < 0:
            raise ConfigurationError(
                f"breaker=Breaker(probe_after={self.probe_after}): must be 0 or more, or None"
            )


DEFAULT_BREAKER = Breaker()


class Circuit:
    """The breaker state of one send; told about attempts by the workers (thread-safe)."""

    def __init__(self, breaker: Breaker) -> None:
        self.breaker = breaker
        self._lock = threading.Lock()
        self.failing_since: float | None = None
        self.consecutive = 0
        self.failed = 0

    def attempt_ended(self, started: float, alive: bool) -> None:
        """An attempt ended; ``alive``: the service itself answered."""
        with self._lock:
            if alive:
                self.failing_since = None
                self.consecutive = 0
            elif self.failing_since is None or started < self.failing_since:
                self.failing_since = started

    def batch_ended(self, ok: bool, unavailable: bool) -> None:
        """A batch's delivery ended after its retries."""
        with self._lock:
            if ok or not unavailable:
                self.consecutive = 0
            else:
                self.consecutive += 1
                self.failed += 1

    def deadline(self) -> float | None:
        """When the time budget runs out (monotonic), or None while nothing fails."""
        with self._lock:
            if self.failing_since is None:
                return None
            return self.failing_since + self.breaker.failing_seconds

    def why_open(self) -> str | None:
        """Why the circuit is open now, or None while it is closed."""
        with self._lock:
            if self.consecutive >= self.breaker.failed_batches:
                n = self.consecutive
                if n == 1:
                    return "1 batch failed after all its retries"
                return f"{n} batches in a row failed after all their retries"
            since = self.failing_since
            if since is not None and time.monotonic() - since >= self.breaker.failing_seconds:
                return f"every request failed for {self.breaker.failing_seconds:g} s"
            return None

    def reset(self) -> None:
        """The probe was confirmed: start counting afresh."""
        with self._lock:
            self.failing_since = None
            self.consecutive = 0
