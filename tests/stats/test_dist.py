"""The engine's own distribution functions (``stats._dist``) against SciPy's, which they replace
on the everyday paths so that ``pool`` and ``build`` never import SciPy.

Tolerance: relative 1e-12 up to 1,000 degrees of freedom and 1e-10 beyond (``log Gamma`` of
large arguments limits both implementations), far inside the 1e-6 to 1e-10 the engine states
against metafor. Near the centre of the t distribution (|t| < 1e-3, p within 0.01 of 1/2) the
problem itself is ill-conditioned and SciPy is the less accurate of the two (``stdtr(1, -1e-8)``
is off in the 9th digit), so the grids leave it out and a round trip checks it instead.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

from mscreview.stats import _dist

RNG = np.random.default_rng(20261201)
DFS = [1, 2, 3, 4, 5, 7, 10, 13, 29, 30, 99, 100, 199, 200, 201, 1000, 0.5, 1.5, 2.7, 33.3]


def _rtol(df: float) -> float:
    return 1e-12 if df <= 1000 else 1e-10


def _close(ours: object, scipy_: object, rtol: float) -> None:
    np.testing.assert_allclose(np.asarray(ours), np.asarray(scipy_), rtol=rtol, atol=1e-300)


def test_normal() -> None:
    x = np.concatenate([np.linspace(-37, 37, 2001), RNG.normal(0, 3, 500)])
    _close(_dist.ndtr(x), sp.ndtr(x), 1e-13)
    p = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 2001), 10.0 ** -np.arange(1, 300, 3)])
    _close(_dist.ndtri(p), sp.ndtri(p), 1e-14)


@pytest.mark.parametrize("df", DFS)
def test_chi_square_tail(df: float) -> None:
    x = np.concatenate([np.linspace(0, 5 * df + 50, 300), RNG.uniform(0, 3 * df + 10, 100),
                        [1e-8, 1e-3, 1e3, 1e4]])
    _close(_dist.chdtrc(df, x), sp.chdtrc(df, x), _rtol(df))


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_and_quantile(df: float) -> None:
    t = np.concatenate([np.linspace(-60, -1e-3, 300), np.linspace(1e-3, 60, 300), [-1e3, 1e6]])
    _close(_dist.stdtr(df, t), sp.stdtr(df, t), _rtol(df))
    p = np.concatenate([np.linspace(1e-3, 0.49, 200), np.linspace(0.51, 1 - 1e-3, 200),
                        [0.025, 0.975, 0.995, 1e-10, 1 - 1e-12]])
    _close(_dist.stdtrit(df, p), sp.stdtrit(df, p), _rtol(df))


@pytest.mark.parametrize("df", [1, 2, 3, 7, 30])
def test_t_round_trip_near_the_centre(df: float) -> None:
    p = np.linspace(0.49, 0.51, 41)
    np.testing.assert_allclose(_dist.stdtr(df, _dist.stdtrit(df, p)), p, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("d1", [1, 2, 3, 5, 12.5, 40])
def test_f_tail(d1: float) -> None:
    f = np.concatenate([np.linspace(0, 30, 200), [1e-6, 1e3]])
    for d2 in (1, 2, 5, 17, 60, 300.5):
        _close(_dist.fdtrc(d1, d2, f), sp.fdtrc(d1, d2, f), 1e-11)


def test_gammaln() -> None:
    x = np.concatenate([np.linspace(0.01, 50, 500), [0.5, 1, 2, 1e3, 1e5]])
    _close(_dist.gammaln(x), sp.gammaln(x), 1e-13)
    assert _dist.gammaln(0.0) == np.inf


def test_edges_and_shapes() -> None:
    nan = np.nan
    assert np.isnan(_dist.ndtr(nan)) and np.isnan(_dist.ndtri(nan)) and np.isnan(_dist.ndtri(2.0))
    assert _dist.ndtri(0.0) == -np.inf and _dist.ndtri(1.0) == np.inf
    assert _dist.chdtrc(3, 0.0) == 1.0 and _dist.chdtrc(3, np.inf) == 0.0
    assert np.isnan(_dist.chdtrc(0, 1.0)) and np.isnan(_dist.chdtrc(3, nan))
    assert _dist.stdtr(5, -np.inf) == 0.0 and _dist.stdtr(5, np.inf) == 1.0
    assert _dist.stdtr(np.inf, 1.0) == pytest.approx(sp.ndtr(1.0), rel=1e-15)
    assert _dist.stdtrit(np.inf, 0.975) == pytest.approx(sp.ndtri(0.975), rel=1e-15)
    assert _dist.stdtrit(4, 0.5) == 0.0 and _dist.stdtrit(4, 1.0) == np.inf
    assert _dist.fdtrc(2, 3, 0.0) == 1.0 and np.isnan(_dist.fdtrc(0, 3, 1.0))
    assert isinstance(_dist.ndtr(0.5), np.float64)  # as a SciPy ufunc gives for a scalar
    assert _dist.chdtrc([1, 2], [[0.5], [1.5]]).shape == (2, 2)  # broadcast
    assert _dist.ndtr(np.array([])).shape == (0,)


def test_the_usual_critical_value_is_correctly_rounded() -> None:
    from mscreview.stats._common import norm_crit

    assert norm_crit() == sp.ndtri(0.975) == 1.959963984540054
    assert norm_crit(0.9) == pytest.approx(sp.ndtri(0.95), rel=1e-15)


def test_chi_square_arrays_equal_scalars() -> None:
    """Arrays take a vectorised path (the audit evaluates df = 1..200 at once): same numbers."""
    df = np.concatenate([RNG.integers(1, 260, 3000).astype(float), [2.5, 0.5, np.nan, 3.0]])
    x = np.concatenate([RNG.uniform(0, 1200, 3000), [1.0, 2.0, 1.0, np.nan]])
    scalars = np.array([float(_dist.chdtrc(d, v)) for d, v in zip(df, x, strict=True)])
    np.testing.assert_array_equal(_dist.chdtrc(df, x), scalars)
    _close(_dist.chdtrc(df[:3000], x[:3000]), sp.chdtrc(df[:3000], x[:3000]), 1e-12)
