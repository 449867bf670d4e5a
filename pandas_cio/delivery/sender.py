"""One send of many batches: worker threads, the stop flag, and the circuit breaker.

:class:`_Send` is what :meth:`pandas_cio.Client.send_batches` runs. It keeps
at most ``2 * limit`` batches pulled ahead, where ``limit`` is the in-flight
limit :class:`~pandas_cio.delivery.concurrency.Concurrency` tunes between 1 and
``workers`` (the rest wait at the workers' gate, bodies built), yields each
outcome as it arrives, and owns the two ways a send ends early:

* **stop** (the caller's flag, Ctrl-C, the generator closed): nothing new
  starts, requests in flight get :data:`_FINISH_GRACE` seconds to finish
  (their answer may confirm rows), then their sockets are cut, and workers
  still busy are abandoned (they are daemon threads). What finished unseen
  goes to ``settled``; what never answered is not confirmed.
* **the breaker** (:mod:`pandas_cio.delivery.breaker`): nothing new starts, waits for
  retries end, attempts in flight are cut after :data:`_OPEN_GRACE`; batches
  cut that way go back in the queue. After ``probe_after`` seconds one batch
  goes as a one-attempt probe: confirmed, the send resumes (queue first);
  refused, the send ends with :class:`~pandas_cio.delivery.transport.CircuitOpen`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from urllib3.util.retry import Retry

from ..prepare.batching import Batch
from .breaker import Circuit
from .concurrency import Concurrency, Gate
from .transport import CircuitOpen, Delivery

if TYPE_CHECKING:
    from .client import Client

__all__: list[str] = []

# How often the sending loop looks at the stop flag and the breaker's clock
# while it waits for workers.
_TICK = 0.2
# Once a send stops, requests in flight get this long to finish; then their
# sockets are cut, and after _ABORT_GRACE more they are abandoned. Ctrl-C thus
# ends a send in well under a second, whatever the workers are doing.
_FINISH_GRACE = 0.5
_ABORT_GRACE = 0.25
# When the breaker opens, attempts in flight get this long before they are cut.
_OPEN_GRACE = 1.0
_HALTED = "not confirmed: the circuit breaker stopped the send before this request was answered"


def _sent_at() -> str:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.isoformat(timespec="milliseconds") + "Z"


class _Workers:
    """Daemon worker threads: a stuck one can be abandoned without blocking interpreter exit.

    Threads start as work is queued, up to ``cap``; each passes ``gate``
    before its request, so no more than the tuned limit are in flight.
    """

    def __init__(self, cap: int, gate: Gate) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cap = cap
        self._gate = gate
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Delivery], *args: Any, queued: int) -> Future[Delivery]:
        """Queue ``fn(*args)``; ``queued``: the work not finished, this one included."""
        future: Future[Delivery] = Future()
        self._queue.put((future, fn, args))
        if len(self._threads) < min(self._cap, queued):
            thread = threading.Thread(
                target=self._run, name=f"pandas_cio_{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            self._gate.enter()
            try:
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the consumer through the future
                    future.set_exception(exc)
            finally:
                self._gate.leave()

    def shutdown(self, timeout: float) -> None:
        """Ask every thread to end; wait at most ``timeout`` seconds in all."""
        self._gate.open()
        for _ in self._threads:
            self._queue.put(None)
        until = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, until - time.monotonic()))


class _Observers:
    """Tells every attempt's end to the breaker and to the concurrency controller."""

    def __init__(self, circuit: Circuit | None, concurrency: Concurrency) -> None:
        self.circuit = circuit
        self.concurrency = concurrency

    def attempt_ended(self, started: float, alive: bool) -> None:
        self.concurrency.attempt_ended(started, alive)
        if self.circuit is not None:
            self.circuit.attempt_ended(started, alive)


class _Send:
    """The state of one ``send_batches`` call."""

    def __init__(
        self,
        client: Client,
        batches: Iterable[Batch],
        stop: threading.Event,
        settled: Callable[[Batch, Delivery], None] | None,
    ) -> None:
        self.client = client
        self.source = iter(batches)
        self.stop = stop
        self.settled = settled
        breaker = client.settings.breaker
        self.circuit = Circuit(breaker) if breaker is not None else None
        settings = client.settings
        self.concurrency = Concurrency(settings.workers, adaptive=settings.adaptive)
        self.observers = _Observers(self.circuit, self.concurrency)
        # The workers' stop flag: set with `stop`, and when the breaker opens
        # (a probe that succeeds gets a fresh one for the rest of the send).
        self.halt = threading.Event()
        self.halts = [self.halt]
        self.pending: dict[Future[Delivery], Batch] = {}
        self.waiting: deque[Batch] = deque()  # cut by the open breaker: to send again
        self.spent: dict[int, int] = {}  # id(batch) -> attempts made before it was cut
        self.exhausted = False
        self.workers: _Workers | None = None

    # Plumbing

    def _submit(self, batch: Batch, retry: Retry | None = None) -> None:
        if self.workers is None:
            self.workers = _Workers(self.client.workers, Gate(self.concurrency))
        body = batch.body(_sent_at())
        future = self.workers.submit(
            self.client._deliver,
            "/batch",
            body,
            self.halt,
            self.observers,
            retry,
            queued=len(self.pending) + 1,
        )
        self.pending[future] = batch

    def _next_batch(self) -> Batch | None:
        if self.waiting:
            return self.waiting.popleft()
        if self.exhausted:
            return None
        batch = next(self.source, None)
        if batch is None:
            self.exhausted = True
        return batch

    def _with_spent(self, batch: Batch, delivery: Delivery) -> Delivery:
        spent = self.spent.pop(id(batch), 0)
        if spent:
            delivery = dataclasses.replace(delivery, attempts=delivery.attempts + spent)
        return delivery

    def _completed(self, timeout: float) -> Generator[tuple[Batch, Delivery], None, None]:
        """Finished requests, each taken out of ``pending`` only as it is handed on.

        A consumer that stops in between leaves the rest in ``pending``,
        where ``_finish`` settles them.
        """
        done, _ = wait(self.pending, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            delivery = future.result()
            batch = self.pending.pop(future)
            yield batch, self._with_spent(batch, delivery)

    def _tick(self) -> float:
        tick = _TICK
        deadline = self.circuit.deadline() if self.circuit is not None else None
        if deadline is not None:
            tick = min(tick, max(0.0, deadline - time.monotonic()) + 0.01)
        return tick

    def _abort(self) -> None:
        for halt in self.halts:
            self.client._adapter.watchdog.abort(halt)

    # The send

    def run(self) -> Generator[tuple[Batch, Delivery], None, None]:
        """Yield (batch, delivery) as requests finish; see ``Client.send_batches``."""
        try:
            while not self.stop.is_set():
                while len(self.pending) < 2 * self.concurrency.limit:
                    batch = self._next_batch()
                    if batch is None:
                        break
                    self._submit(batch)
                if not self.pending:
                    return
                for batch, delivery in self._completed(self._tick()):
                    if self.circuit is not None:
                        self.circuit.batch_ended(delivery.ok, delivery.unavailable)
                    yield batch, delivery
                why = self.circuit.why_open() if self.circuit is not None else None
                if why is not None:
                    yield from self._open(why)
        finally:
            self._finish()

    def _open(self, why: str) -> Generator[tuple[Batch, Delivery], None, None]:
        """The breaker opened: drain, probe, and go on or raise CircuitOpen."""
        assert self.circuit is not None
        breaker = self.circuit.breaker
        self.halt.set()
        for future, batch in reversed(list(self.pending.items())):
            if future.cancel():
                del self.pending[future]
                self.waiting.appendleft(batch)
        cut_at: float | None = time.monotonic() + _OPEN_GRACE
        while self.pending:
            if self.stop.is_set():
                return
            if cut_at is not None and time.monotonic() >= cut_at:
                self._abort()
                cut_at = None
            for batch, delivery in self._completed(_TICK):
                if delivery.stopped:
                    self.spent[id(batch)] = delivery.attempts
                    self.waiting.append(batch)
                else:
                    self.circuit.batch_ended(delivery.ok, delivery.unavailable)
                    yield batch, delivery
        probe = None
        if breaker.probe_after is not None:
            if self.stop.wait(breaker.probe_after):
                return
            first = self._next_batch()
            if first is None:
                return  # nothing is left to send: every batch has its outcome
            self.halt = threading.Event()
            self.halts.append(self.halt)
            self._submit(first, retry=self.client.retry.new(total=0))
            while self.pending:
                if self.stop.is_set():
                    return
                for batch, delivery in self._completed(_TICK):
                    yield batch, delivery
                    if delivery.ok:
                        self.circuit.reset()
                        return  # the service is back: the send goes on
                    probe = delivery
        else:
            left = self._next_batch()
            if left is None:
                return
            self.waiting.appendleft(left)
        reason = self._reason(why, probe)
        for batch in list(self.waiting):
            spent = self.spent.pop(id(batch), 0)
            if spent:  # attempted, then cut: report its attempts
                self.waiting.remove(batch)
                yield batch, Delivery(False, 0, spent, _HALTED, unavailable=True, stopped=True)
        raise CircuitOpen(reason)

    def _reason(self, why: str, probe: Delivery | None) -> str:
        assert self.circuit is not None
        failed = self.circuit.failed
        probed = ""
        if probe is not None:
            answer = f"HTTP {probe.status}" if probe.status else "no answer"
            probed = f"; a probe {self.circuit.breaker.probe_after:g} s later failed too, {answer}"
        # The reason says why, not what became of the rows: the pipeline puts the
        # rows' "not sent: " before it, as for every other way a send ends early.
        # The count adds nothing when it is zero or when ``why`` already gives it.
        counted = ""
        if failed and "failed after all" not in why:
            counted = (
                f"; {failed} batch{'es' if failed != 1 else ''} failed after all their retries"
            )
        return (
            f"the service looked down, so the send stopped ({why}{counted}{probed}). "
            "To resume, re-send the rows whose status is not 'sent' with their messageIds, so "
            "rows that did arrive are not duplicated (identify, objects and events with "
            "timestamp= keep them by themselves; pass message_id= for the others), or re-run "
            "with the same ledger="
        )

    def _finish(self) -> None:
        """Stop the workers within about a second; settle what finished unseen."""
        self.stop.set()
        for halt in self.halts:
            halt.set()
        for future in list(self.pending):
            if future.cancel():
                del self.pending[future]
        if self.pending:
            wait(self.pending, timeout=_FINISH_GRACE)
            if not all(f.done() for f in self.pending):
                self._abort()
                wait(self.pending, timeout=_ABORT_GRACE)
        if self.workers is not None:
            self.workers.shutdown(_ABORT_GRACE)
        if self.settled is None:
            return
        for future, batch in self.pending.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                self.settled(batch, self._with_spent(batch, future.result()))
        for batch in self.waiting:
            spent = self.spent.pop(id(batch), 0)
            if spent:
                self.settled(batch, Delivery(False, 0, spent, _HALTED, stopped=True))
