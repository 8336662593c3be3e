"""Normal, Student t, chi-square and F tails in plain Python, so pooling never imports SciPy.

``import scipy.special`` costs 0.35-0.8 s on a busy machine, more than the rest of a
``mscreview pool`` or of a whole build of the shipped package. These are the few distribution
functions the engine's everyday paths use, with :mod:`scipy.special`'s names and conventions
(``ndtr``, ``ndtri``, ``chdtrc``, ``stdtr``, ``stdtrit``, ``fdtrc``, ``gammaln``): element-wise
over array arguments, NaN in, NaN out. They agree with :mod:`scipy.special` to a relative
1e-12 or better up to 1,000 degrees of freedom, 1e-10 up to 100,000 (``log Gamma`` of large
arguments limits both; ``tests/stats/test_dist.py`` compares them over a grid), far inside every
tolerance the engine states against metafor. Rarely used functions (Q-profile, sequential
boundaries, the vectorised batch) still import SciPy, when called.

Methods:

- ``ndtr`` by the complementary error function, as Cephes does (``0.5 + 0.5 erf(x/sqrt 2)``
  near 0, ``0.5 erfc(|x|/sqrt 2)`` in the tails), and ``ndtri`` by Wichura's AS 241 (1988),
  :meth:`statistics.NormalDist.inv_cdf`.
- The chi-square tail with integer df by the closed-form series of Abramowitz & Stegun (1964)
  26.4.4-5, otherwise the regularized upper incomplete gamma function by its series or its
  continued fraction (Press et al., Numerical Recipes, 3rd ed., 2007, 6.2).
- The t and F tails by the regularized incomplete beta function, ``I_x(a, b)``, as a continued
  fraction evaluated by the modified Lentz method (Numerical Recipes 6.4; Abramowitz & Stegun
  26.5.8), with ``1 - x`` passed exactly so that neither tail loses digits:
  ``P(T < -|t|) = I_{df/(df+t^2)}(df/2, 1/2) / 2`` (A&S 26.7.1) and
  ``P(F > f) = I_{d2/(d2+d1 f)}(d2/2, d1/2)`` (A&S 26.6.2).
- ``stdtrit`` in closed form for df = 1 (the Cauchy, also ``stdtr``) and 2, otherwise by
  Newton's method on ``stdtr`` from the Cornish-Fisher expansion (A&S 26.7.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["chdtrc", "fdtrc", "gammaln", "ndtr", "ndtri", "stdtr", "stdtrit"]

_SQRT_HALF = math.sqrt(0.5)
#: Relative size of the last continued-fraction or series term kept (about machine epsilon).
_EPS = 1e-16
#: Smallest magnitude a Lentz denominator may take (Numerical Recipes' FPMIN).
_TINY = 1e-300
#: Iteration cap of the continued fractions and series: enough for parameters in the
#: hundreds of thousands (they need about sqrt(max(a, b)) terms).
_MAX_ITER = 100_000
_STANDARD = NormalDist()


def _elementwise(fn: Callable[..., float], *args: Any) -> Any:
    """``fn`` over broadcast float arguments: a NumPy float for scalars, else an array."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    if arrays[0].ndim == 0:
        return np.float64(fn(*(float(a) for a in arrays)))
    flat = zip(*(a.ravel().tolist() for a in arrays), strict=True)
    out = np.fromiter((fn(*values) for values in flat), dtype=np.float64, count=arrays[0].size)
    return out.reshape(arrays[0].shape)


# --------------------------------------------------------------------------- normal


def _ndtr(a: float) -> float:
    if math.isnan(a):
        return math.nan
    x = a * _SQRT_HALF
    z = abs(x)
    if z < _SQRT_HALF:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(z)
    return 1.0 - y if x > 0 else y


def _ndtri(p: float) -> float:
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return _STANDARD.inv_cdf(p)


def ndtr(x: Any) -> Any:
    """Standard normal CDF, ``Phi(x)``.

    Parameters
    ----------
    x : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Same shape as ``x``.
    """
    return _elementwise(_ndtr, x)


def ndtri(p: Any) -> Any:
    """Standard normal quantile, ``Phi^{-1}(p)``; -inf at 0, inf at 1, NaN outside [0, 1].

    Parameters
    ----------
    p : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Same shape as ``p``.
    """
    return _elementwise(_ndtri, p)


# --------------------------------------------------------------------------- gamma


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, x)`` (Numerical Recipes 6.2)."""
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # the series of P(a, x)
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return 1.0 - total * math.exp(log_front)
    b = x + 1.0 - a  # the continued fraction of Q(a, x), modified Lentz
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def _chdtrc_int(df: int, x: float) -> float:
    """``P(chi2_df > x)`` for integer df by Abramowitz & Stegun 26.4.4 (even) and 26.4.5 (odd).

    Even df = 2n: ``exp(-x/2) sum_{j<n} (x/2)^j / j!``; odd df = 2n + 1: ``2 Phi(-sqrt x) +
    2 phi(sqrt x) sqrt x sum_{r=1..n} x^{r-1} / (1 3 5 ... (2r-1))``. Every term is positive;
    they are summed forwards, each the previous times one factor (as :func:`_chdtrc_series`).
    """
    half = 0.5 * x
    if df % 2 == 0:
        term = total = 1.0
        for j in range(1, df // 2):
            term = term * (half / j)
            total = total + term
        return total * math.exp(-half)
    tail = math.erfc(math.sqrt(x) * _SQRT_HALF)  # 2 Phi(-sqrt x)
    if df == 1:
        return tail
    term = total = 1.0
    for r in range(2, df // 2 + 1):
        term = term * (x / (2 * r - 1))
        total = total + term
    return tail + total * math.exp(-half) * math.sqrt(x) * math.sqrt(2.0 / math.pi)


def _chdtrc(df: float, x: float) -> float:
    if math.isnan(df) or math.isnan(x) or df <= 0.0:
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if df == int(df) and df <= 200 and x <= 1000.0:  # no overflow of the series' terms
        return _chdtrc_int(int(df), x)
    return _gamma_q(0.5 * df, 0.5 * x)


def chdtrc(df: Any, x: Any) -> Any:
    """Chi-square upper tail, ``P(X > x)`` with ``df`` degrees of freedom.

    Parameters
    ----------
    df : float or array_like
        Degrees of freedom (> 0).
    x : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The broadcast shape of ``df`` and ``x``.
    """
    d, v = np.broadcast_arrays(np.asarray(df, dtype=np.float64), np.asarray(x, dtype=np.float64))
    if d.ndim == 0 or d.size < 16:
        return _elementwise(_chdtrc, d, v)
    with np.errstate(invalid="ignore"):
        series = (d == np.floor(d)) & (d <= 200) & (d >= 1) & (v > 0.0) & (v <= 1000.0)
    out = np.empty(d.shape)
    out[~series] = _elementwise(_chdtrc, d[~series], v[~series])
    out[series] = _chdtrc_series(d[series].astype(np.int64), v[series])
    return out


def _chdtrc_series(df: Any, x: Any) -> Any:
    """:func:`_chdtrc_int` over arrays: the same terms in the same order (running products and
    sums along a row per value), so the same numbers, without a Python step per value."""
    n = df // 2
    odd = (df % 2) == 1
    half = 0.5 * x
    width = max(int(n.max(initial=1)), 1)
    steps = np.arange(1, width, dtype=np.float64)[:, None]
    # one row per term, one column per value (running products and sums down the columns);
    # term j over term j - 1: x/2 / j (even df), x / (2j + 1) (odd df, r = j + 1)
    terms = np.empty((width, len(x)))
    terms[0] = 1.0
    terms[1:] = np.where(odd, x / (2.0 * steps + 1.0), half / steps)
    np.cumprod(terms, axis=0, out=terms)
    np.cumsum(terms, axis=0, out=terms)
    last = (n - 1).clip(0)  # n terms: j = 0..n-1 (even), r = 1..n (odd)
    total = terms[last, np.arange(len(x))]
    out = total * np.exp(-half)
    if odd.any():
        root = np.sqrt(x[odd])
        tail = np.fromiter((math.erfc(r * _SQRT_HALF) for r in root.tolist()), dtype=np.float64,
                           count=root.size)
        more = out[odd] * root * math.sqrt(2.0 / math.pi)
        out[odd] = np.where(df[odd] == 1, tail, tail + more)
    return out


def gammaln(x: Any) -> Any:
    """``log |Gamma(x)|`` (:func:`math.lgamma`); inf at the poles 0, -1, ...

    Parameters
    ----------
    x : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        Same shape as ``x``.
    """
    def one(v: float) -> float:
        if math.isnan(v):
            return math.nan
        try:
            return math.lgamma(v)
        except ValueError:  # a pole
            return math.inf

    return _elementwise(one, x)


# --------------------------------------------------------------------------- beta


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of ``I_x(a, b)`` (Numerical Recipes 6.4, modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _beta_i(a: float, b: float, x: float, y: float) -> float:
    """Regularized incomplete beta ``I_x(a, b)``, given ``y = 1 - x`` exactly."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, y) / b


def _t_lower(df: float, t: float) -> float:
    """``P(T < t)`` for t <= 0 (A&S 26.7.1 through 26.5.27; df = 1, the Cauchy, directly)."""
    if df == 1.0:
        return math.atan2(1.0, -t) / math.pi if t < 0 else 0.5
    t2 = t * t
    return 0.5 * _beta_i(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))


def _stdtr(df: float, t: float) -> float:
    if math.isnan(df) or math.isnan(t) or df <= 0.0:
        return math.nan
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    if math.isinf(df):
        return _ndtr(t)
    lower = _t_lower(df, -abs(t))
    return lower if t <= 0 else 1.0 - lower


def stdtr(df: Any, t: Any) -> Any:
    """Student t CDF, ``P(T < t)`` with ``df`` degrees of freedom.

    Parameters
    ----------
    df : float or array_like
        Degrees of freedom (> 0; inf gives the normal).
    t : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The broadcast shape of ``df`` and ``t``.
    """
    return _elementwise(_stdtr, df, t)


def _t_pdf(df: float, t: float) -> float:
    log_c = math.lgamma(0.5 * (df + 1.0)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - 0.5 * (df + 1.0) * math.log1p(t * t / df))


def _stdtrit(df: float, p: float) -> float:
    if math.isnan(df) or math.isnan(p) or df <= 0.0 or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p == 0.5:
        return 0.0
    if math.isinf(df):
        return _ndtri(p)
    q = min(p, 1.0 - p)  # solve in the lower tail, t < 0
    if df == 1.0:  # Cauchy: P(T < t) = atan2(1, -t) / pi
        t = -1.0 / math.tan(math.pi * q)
        return -t if p > 0.5 else t
    if df == 2.0:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    z = _ndtri(q)
    z2 = z * z
    t = z + z * (z2 + 1.0) / (4.0 * df) + z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * df * df)
    t = min(t, z)  # the t quantile lies beyond the normal's
    for _ in range(100):
        step = (_t_lower(df, t) - q) / _t_pdf(df, t)
        new = t - step
        if new >= 0.0:  # overshot past the centre: halve instead
            new = 0.5 * t
        if abs(new - t) <= 4e-16 * abs(new):
            t = new
            break
        t = new
    return -t if p > 0.5 else t


def stdtrit(df: Any, p: Any) -> Any:
    """Student t quantile: the ``t`` with ``P(T < t) = p``.

    Parameters
    ----------
    df : float or array_like
        Degrees of freedom (> 0).
    p : float or array_like
        Probability in [0, 1].

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The broadcast shape of ``df`` and ``p``.
    """
    return _elementwise(_stdtrit, df, p)


def _fdtrc(d1: float, d2: float, f: float) -> float:
    if math.isnan(d1) or math.isnan(d2) or math.isnan(f) or d1 <= 0.0 or d2 <= 0.0:
        return math.nan
    if f <= 0.0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return _beta_i(0.5 * d2, 0.5 * d1, d2 / (d2 + d1 * f), d1 * f / (d2 + d1 * f))


def fdtrc(d1: Any, d2: Any, f: Any) -> Any:
    """F distribution upper tail, ``P(F > f)`` with ``(d1, d2)`` degrees of freedom.

    Parameters
    ----------
    d1, d2 : float or array_like
        Numerator and denominator degrees of freedom (> 0).
    f : float or array_like

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The broadcast shape of the arguments.
    """
    return _elementwise(_fdtrc, d1, d2, f)
