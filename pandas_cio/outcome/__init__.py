"""What a send reports: statuses, the result frame, the report, progress, gates.

:mod:`.results` owns the statuses and the result frame's columns and counters;
:mod:`.report` summarises a result, :mod:`.progress` shows a send while it
runs, :mod:`.gates` stops a send whose dry run breaks a quality limit, and
:mod:`.frames` turns results into polars frames. These sit below the stages
because the pure stages already decide statuses (``invalid``, ``superseded``).
"""
