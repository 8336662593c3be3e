"""Shared helpers of the statistics engine: array coercion and the normal, t and chi-square tails.

The distribution functions come from :mod:`scipy.special` rather than :mod:`scipy.stats`, because
``import scipy.stats`` costs about 0.8 s and a whole ``mscreview build`` is a short process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit  # type: ignore[import-untyped]

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


def norm_crit(level: float = LEVEL) -> float:
    """Two-sided standard-normal critical value, e.g. 1.959964 for ``level=0.95``."""
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
