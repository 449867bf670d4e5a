"""The one pipeline: what the layers above import to send a frame.

:func:`run` sends every row of a frame as one call of an operation (see
:mod:`.send`); :class:`SendOptions` are the keywords every front door passes
through; :func:`send_grouped` sends line items as one call per order.
"""

from .grouping import send_grouped
from .options import DEFAULT_CHUNK_ROWS, SendOptions
from .send import run

__all__ = ["DEFAULT_CHUNK_ROWS", "SendOptions", "run", "send_grouped"]
