"""Getting batches to Customer.io and knowing what happened to each.

:mod:`.settings` is the one frozen description of a client, :mod:`.client`
owns the session, :mod:`.transport` the retries and the rate limit,
:mod:`.sender` the in-flight window (sized by :mod:`.concurrency`), and
:mod:`.breaker`, :mod:`.deadline`, :mod:`.splitting`, :mod:`.termination` and
:mod:`.redact` the ways a send ends early, is cut short, is split per call, is
stopped by a signal, or quotes a server without leaking the key.
"""
