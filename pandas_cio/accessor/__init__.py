"""The pandas front door: ``DataFrame.cio``, the plain functions, polars.

:mod:`.frame` is the accessor, :mod:`.namespaces` and :mod:`.semantic` its
``objects``, ``devices`` and ``semantic`` namespaces, :mod:`.options` the one
declaration of the options every sending method takes, :mod:`.functions` the
same methods as functions of a frame, and :mod:`.polars_frame`
``polars.DataFrame.cio``.
"""
