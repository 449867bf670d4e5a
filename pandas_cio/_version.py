"""The package's version, in one place.

``pyproject.toml`` reads it from here (hatch's version source), the user agent
and ``pandas-cio --version`` import it, and ``pandas_cio.__version__`` re-exports it.
"""

__version__ = "0.1.0"
