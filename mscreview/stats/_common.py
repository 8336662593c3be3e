"""Shared helpers of the statistics engine: array coercion and the normal, t and chi-square tails.

The distribution functions come from :mod:`mscreview.stats._dist` (plain Python, SciPy's names)
rather than :mod:`scipy.stats` or :mod:`scipy.special`, because ``import scipy.stats`` costs
about 0.8 s, ``import scipy.special`` 0.35 s or more, and ``mscreview pool`` and ``build`` are
short processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mscreview.stats._dist import chdtrc, ndtr, ndtri, stdtr, stdtrit

__all__ = [
    "FloatArray",
    "StatsError",
    "as_float",
    "chi2_sf",
    "norm_crit",
    "norm_p",
    "t_crit",
    "t_p",
]

FloatArray = NDArray[np.float64]

#: Two-sided 95% intervals throughout, as RevMan 5 and metafor use by default.
LEVEL = 0.95


class StatsError(ValueError):
    """A request the engine refuses (unit-of-analysis error, too few studies, bad option)."""


def as_float(values: ArrayLike) -> FloatArray:
    """Return ``values`` as a 1-D float64 array (``None`` becomes NaN).

    Parameters
    ----------
    values : array_like, shape (k,)

    Returns
    -------
    numpy.ndarray of float64, shape (k,)
    """
    if isinstance(values, Sequence) and not isinstance(values, str):
        values = [np.nan if v is None else v for v in values]
    arr = np.asarray(values, dtype=np.float64)
    return np.atleast_1d(arr)


#: ``Phi^{-1}(0.975)`` correctly rounded, as R's ``qnorm(0.975)`` and SciPy's ``ndtri(0.975)``
#: give it; Wichura's AS 241 (:func:`mscreview.stats._dist.ndtri`) is one unit in the last place
#: lower, which would move the last digit of some CI limits in ``results.json``.
Z975 = 1.959963984540054


def norm_crit(level: float = LEVEL) -> float:
    """Two-sided standard-normal critical value, e.g. 1.959964 for ``level=0.95``."""
    if level == LEVEL:
        return Z975
    return float(ndtri(0.5 + level / 2.0))


def t_crit(df: float, level: float = LEVEL) -> float:
    """Two-sided Student t critical value with ``df`` degrees of freedom."""
    return float(stdtrit(df, 0.5 + level / 2.0))


def norm_p(z: Any) -> Any:
    """Two-sided normal p-value ``2 Phi(-|z|)`` (scalar or array)."""
    return 2.0 * ndtr(-np.abs(z))


def t_p(t: Any, df: Any) -> Any:
    """Two-sided Student t p-value ``2 F_df(-|t|)`` (scalar or array)."""
    return 2.0 * stdtr(df, -np.abs(t))


def chi2_sf(q: Any, df: Any) -> Any:
    """Upper tail of the chi-square distribution, ``P(X > q)`` with ``df`` degrees of freedom."""
    return chdtrc(df, q)
