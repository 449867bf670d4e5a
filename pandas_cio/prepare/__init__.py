"""The pure stages before the network: plan, validate, stamp, encode, batch.

Each works on row positions of the input frame and decides statuses without a
request: :mod:`.plan` resolves arguments to columns or constants,
:mod:`.validation` builds the pandera schema from the kind checks and the
Journeys limits, :mod:`.stamping` and :mod:`.supersede` settle timestamps and
which row of a key is sent, :mod:`.encoding` writes the calls column-wise with
their messageIds, and :mod:`.batching` packs them into byte-bounded requests.
"""
