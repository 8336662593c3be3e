"""SciPy's special functions, imported on their first call rather than with the engine.

``import scipy.special`` costs 0.35-0.8 s; ``mscreview pool`` and a build of the shipped package
need none of these (their distributions come from :mod:`mscreview.stats._dist`). The modules
that do need them (the vectorised batch, the sequential boundaries, the small-sample
conversions, whose values ``mscreview.store.T975`` copies) import them from here under SciPy's
own names, so their numbers are SciPy's exactly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chdtrc", "erfc", "log_ndtr", "ndtr", "ndtri", "ndtri_exp", "stdtr",
           "stdtrit"]


def _special() -> Any:
    import scipy.special  # type: ignore[import-untyped]

    return scipy.special


def chdtrc(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.chdtrc`: chi-square upper tail."""
    return _special().chdtrc(*args, **kwargs)


def erfc(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.erfc`: complementary error function."""
    return _special().erfc(*args, **kwargs)


def log_ndtr(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.log_ndtr`: log of the standard normal CDF."""
    return _special().log_ndtr(*args, **kwargs)


def ndtr(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.ndtr`: standard normal CDF."""
    return _special().ndtr(*args, **kwargs)


def ndtri(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.ndtri`: standard normal quantile."""
    return _special().ndtri(*args, **kwargs)


def ndtri_exp(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.ndtri_exp`: standard normal quantile of ``exp(y)``."""
    return _special().ndtri_exp(*args, **kwargs)


def stdtr(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.stdtr`: Student t CDF."""
    return _special().stdtr(*args, **kwargs)


def stdtrit(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.special.stdtrit`: Student t quantile."""
    return _special().stdtrit(*args, **kwargs)
