"""The ``pandas-cio`` command: files in, statuses out, one exit code per outcome.

:mod:`.main` runs a command, :mod:`.parser` and :mod:`.options` build the
command line from the operations table and the accessor's option declaration,
:mod:`.files` reads and writes CSV, JSON lines and Parquet, :mod:`.spelling`
rewrites messages into option spellings, :mod:`.errors` maps outcomes to exit
codes, and :mod:`.demo` is ``pandas-cio demo``.
"""
