"""Benchmark: 10,000 DerSimonian-Laird analyses of k = 10.

Compares, in one run, the batch API (:func:`mscreview.stats.pool_batch`), a bare numpy DL kernel
(the floor: estimate, SE, CI, Q, I^2, tau^2 and p only) and statsmodels' ``combine_effects`` in a
Python loop (on a subsample, scaled to 10,000). Targets: batch within 3x of the bare kernel,
at least 50x faster than statsmodels. Not a test: run ``python benchmarks/pool.py``.

Sensitivity analyses (issue 12): leave-one-out (k pools without one study each) and cumulative
meta-analysis (k growing pools) of the same 10,000 analyses by
:func:`~mscreview.stats.leave_one_out_batch` and :func:`~mscreview.stats.cumulative_batch`,
printed as a ratio to the plain pool (``pool_batch``, same model: DerSimonian-Laird, normal
intervals, every field) timed in the same run. Target: within 3x. Both produce k pools per
analysis (10x the plain pool's output): the fixed-effect sums, Q and the DL C are shared (totals
minus one study, prefix sums); only the random-effects weights cost O(k^2) per analysis. Timings
are the best of interleaved repeats, in wall time and in CPU time of this process; the verdict
uses CPU time, because the machines are shared (two cores, other jobs): a slice taken by
another process lands more often in a longer call and inflates the wall-time ratio.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.special import ndtr

from mscreview.stats import cumulative_batch, leave_one_out_batch, pool_batch

M, K, SM_SUBSAMPLE, REPEATS = 10_000, 10, 300, 7
SENSITIVITY_REPEATS = 25


def bare_dl(y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    w = 1.0 / v
    sw = w.sum(1)
    mu = (w * y).sum(1) / sw
    q = (w * (y - mu[:, None]) ** 2).sum(1)
    df = y.shape[1] - 1
    tau2 = np.maximum(0.0, (q - df) / (sw - (w * w).sum(1) / sw))
    ws = 1.0 / (v + tau2[:, None])
    sws = ws.sum(1)
    theta = (ws * y).sum(1) / sws
    se = np.sqrt(1.0 / sws)
    i2 = np.maximum(0.0, (q - df) / q) * 100
    p = 2 * ndtr(-np.abs(theta / se))
    return theta, se, theta - 1.96 * se, theta + 1.96 * se, q, i2, tau2, p


def best(fn, *args) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels: sqrt of negative tau^2
    rng = np.random.default_rng(2024)
    v = rng.uniform(0.02, 0.5, (M, K))
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    t_bare = best(bare_dl, y, v)
    t_batch = best(pool_batch, y, v)
    t_mask = best(lambda a, b: pool_batch(a, b, np.ones_like(a, dtype=bool)), y, v)

    from statsmodels.stats.meta_analysis import combine_effects

    def sm_loop() -> None:
        for i in range(SM_SUBSAMPLE):
            combine_effects(y[i], v[i], method_re="dl")

    t_sm = best(sm_loop) * M / SM_SUBSAMPLE
    res = pool_batch(y, v)
    # statsmodels' DL does not truncate tau^2 at 0: compare rows where it is positive.
    agree = True
    for i in np.flatnonzero(res.tau2 > 0)[:20]:
        sm = combine_effects(y[i], v[i], method_re="dl")
        agree &= abs(sm.mean_effect_re - res.theta[i]) < 1e-10
        agree &= abs(sm.tau2 - res.tau2[i]) < 1e-10
    print(f"{M} DL analyses of k={K} (best of {REPEATS})")
    print(f"  bare numpy kernel        {t_bare * 1e3:9.2f} ms")
    print(f"  pool_batch (dense)       {t_batch * 1e3:9.2f} ms   {t_batch / t_bare:5.2f}x bare")
    print(f"  pool_batch (masked)      {t_mask * 1e3:9.2f} ms   {t_mask / t_bare:5.2f}x bare")
    print(f"  statsmodels loop (est.)  {t_sm * 1e3:9.2f} ms   from {SM_SUBSAMPLE} analyses")
    print(f"  speed-up over statsmodels: {t_sm / t_batch:,.0f}x (target >= 50x)")
    print(f"  within 3x of bare kernel: {t_batch / t_bare <= 3} ; statsmodels agrees: {agree}")
    sensitivity(y, v)


def sensitivity(y: np.ndarray, v: np.ndarray) -> None:
    """Leave-one-out and cumulative vs the plain pool, best of interleaved repeats."""
    fns = {"pool_batch (plain pool)": lambda: pool_batch(y, v),
           "leave_one_out_batch": lambda: leave_one_out_batch(y, v),
           "cumulative_batch": lambda: cumulative_batch(y, v)}
    wall = dict.fromkeys(fns, float("inf"))
    cpu = dict.fromkeys(fns, float("inf"))
    for _ in range(SENSITIVITY_REPEATS):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            c1, t1 = time.process_time(), time.perf_counter()
            wall[name] = min(wall[name], t1 - t0)
            cpu[name] = min(cpu[name], c1 - c0)
    base_w, base_c = wall["pool_batch (plain pool)"], cpu["pool_batch (plain pool)"]
    print(f"{M} analyses of k={K}: sensitivity (best of {SENSITIVITY_REPEATS}, interleaved)")
    print(f"  {'':<26}{'wall':>9}      {'ratio':>6}   {'cpu':>9}      {'ratio':>6}")
    for name in fns:
        print(f"  {name:<26}{wall[name] * 1e3:9.2f} ms   {wall[name] / base_w:5.2f}x"
              f"   {cpu[name] * 1e3:9.2f} ms   {cpu[name] / base_c:5.2f}x")
    worst = max(cpu["leave_one_out_batch"], cpu["cumulative_batch"]) / base_c
    print(f"  within 3x of the plain pool (cpu): {worst <= 3}")


if __name__ == "__main__":
    main()
