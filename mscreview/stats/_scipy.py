"""SciPy's special functions, imported on their first call rather than with the engine.

``import scipy.special`` costs 0.35-0.8 s; ``mscreview pool`` and a build of the shipped package
need none of these (their distributions come from :mod:`mscreview.stats._dist`). The modules
that do need them (the vectorised batch, the sequential boundaries, the small-sample
conversions, whose values ``mscreview.store.T975`` copies) import them from here under SciPy's
own names, so their numbers are SciPy's exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["chdtrc", "erfc", "log_ndtr", "ndtr", "ndtri", "ndtri_exp", "stdtr",
           "stdtrit"]


def _special() -> Any:
    import scipy.special  # type: ignore[import-untyped]

    return scipy.special


def _on_first_call(name: str, what: str) -> Callable[..., Any]:
    """``scipy.special.<name>``, imported when first called."""
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_special(), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f":func:`scipy.special.{name}`: {what}."
    return call


chdtrc = _on_first_call("chdtrc", "chi-square upper tail")
erfc = _on_first_call("erfc", "complementary error function")
log_ndtr = _on_first_call("log_ndtr", "log of the standard normal CDF")
ndtr = _on_first_call("ndtr", "standard normal CDF")
ndtri = _on_first_call("ndtri", "standard normal quantile")
ndtri_exp = _on_first_call("ndtri_exp", "standard normal quantile of ``exp(y)``")
stdtr = _on_first_call("stdtr", "Student t CDF")
stdtrit = _on_first_call("stdtrit", "Student t quantile")
