#!/usr/bin/env python3
"""Fits the coefficients of graft's own erf and exp (Sources/GraftTensor/Kernels/VectorMath.swift).

erf:

erf(x) ~ x * P(x^2) / Q(x^2) on 0 <= x <= 3.95, P of degree 6 and Q of degree 5 in x^2 (Q(0) = 1),
fitted for the smallest relative error by iteratively reweighted least squares (Loeb's
linearization with Lawson-style weights) on Chebyshev points, against Python's double erf.
Then every float32 in (1e-20, 3.95] (a stride through their bit patterns) is evaluated in float32
as the Swift code does it (Horner with fused multiply-adds, one division) and compared, in ulps,
with the double erf rounded to float32.

exp: exp(x) = 2^n * e^r, n = round(x * log2 e), r = x - n * ln 2 (ln 2 as 0.693359375 - 2.12194440e-4),
e^r = 1 + r + r^2 * q(r), q of degree 4 fitted for the smallest relative error on |r| <= ln 2 / 2 (the
same reweighted least squares), then evaluated in float32 as the Swift code does it over x from -87
to 88.7 and compared, in ulps, with the double exp rounded to float32.

Run: python3 scripts/fit-vector-math.py   (numpy only; prints the coefficients as Swift literals)
"""
import math
import numpy as np

HI = 3.95
NP, NQ = 7, 6


def fit(np_, nq, hi, iters=200):
    n = 6000
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    x = np.sort((t + 1) / 2 * hi)
    x = x[x > 1e-7]
    f = np.array([math.erf(v) for v in x])
    u = (x / hi) ** 2  # scaled for conditioning; unscaled below
    q_prev, w = np.ones_like(x), np.ones_like(x)
    best = (1.0, None, None)
    for _ in range(iters):
        a = np.zeros((len(x), np_ + nq - 1))
        for i in range(np_):
            a[:, i] = x * u ** i
        for j in range(1, nq):
            a[:, np_ + j - 1] = -f * u ** j
        s = np.sqrt(w) / (f * q_prev)
        sol, *_ = np.linalg.lstsq(a * s[:, None], f * s, rcond=None)
        p, q = sol[:np_], np.concatenate([[1.0], sol[np_:]])
        big_q = np.polyval(q[::-1], u)
        r = x * np.polyval(p[::-1], u) / big_q / f - 1
        e = np.abs(r).max()
        if e < best[0]:
            best = (e, p.copy(), q.copy())
        q_prev = big_q
        w = np.maximum(w * np.abs(r) ** 0.5 / np.mean(w * np.abs(r) ** 0.5), 1e-9)
    e, p, q = best
    return [p[i] / hi ** (2 * i) for i in range(np_)], [q[j] / hi ** (2 * j) for j in range(nq)], e


def fma32(a, b, c):
    # a·b of two float32 is exact in double; one rounding of the sum (as the FMA), then to float32.
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def evaluate(p, q):
    p32, q32 = [np.float32(v) for v in p], [np.float32(v) for v in q]
    lo, hi = np.float32(1e-20).view(np.int32), np.float32(HI).view(np.int32)
    xs = np.arange(lo, hi, 101, dtype=np.int32).view(np.float32)
    y = (xs * xs).astype(np.float32)
    big_p = np.full_like(xs, p32[-1])
    for c in p32[-2::-1]:
        big_p = fma32(big_p, y, np.full_like(xs, c))
    big_q = np.full_like(xs, q32[-1])
    for c in q32[-2::-1]:
        big_q = fma32(big_q, y, np.full_like(xs, c))
    r = np.minimum(((xs * big_p).astype(np.float32) / big_q).astype(np.float32), np.float32(1))
    ref = np.array([math.erf(float(v)) for v in xs])
    ulp = np.abs(r.astype(np.float64) - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    return ulp.max(), ulp.mean(), float(xs[ulp.argmax()])


def fit_exp(degree=4, iters=100):
    half_ln2 = math.log(2) / 2
    t = np.cos(np.pi * (np.arange(4000) + 0.5) / 4000)
    r = t * half_ln2 * 1.001
    r = r[np.abs(r) > 1e-6]
    target = (np.exp(r) - 1 - r) / r ** 2
    w, best = np.ones_like(r), (1.0, None)
    for _ in range(iters):
        a = np.stack([r ** i for i in range(degree + 1)], 1)
        s = np.sqrt(w) * r ** 2 / np.exp(r)
        c, *_ = np.linalg.lstsq(a * s[:, None], target * s, rcond=None)
        e = r ** 2 * (a @ c - target) / np.exp(r)
        if np.abs(e).max() < best[0]:
            best = (np.abs(e).max(), c.copy())
        w = np.maximum(w * np.abs(e) ** 0.5 / np.mean(w * np.abs(e) ** 0.5), 1e-9)
    return best


def evaluate_exp(q):
    f = np.float32
    x = np.linspace(-87, 88.7, 3_000_001).astype(np.float32)
    full = lambda v: np.full_like(x, f(v))
    shifted = fma32(x, full(1.4426950408889634), full(12582912.0))
    n = (shifted - f(12582912.0)).astype(np.float32)
    r = fma32(n, full(-0.693359375), x)
    r = fma32(n, full(2.12194440e-4), r)
    p = full(q[-1])
    for c in q[-2::-1]:
        p = fma32(p, r, full(c))
    y = (fma32(p, (r * r).astype(np.float32), r) + f(1)).astype(np.float32)
    k = n.astype(np.int64)
    first, second = np.ldexp(1.0, k >> 1).astype(np.float32), np.ldexp(1.0, k - (k >> 1)).astype(np.float32)
    got = ((y * first).astype(np.float32) * second).astype(np.float32).astype(np.float64)
    ref = np.exp(x.astype(np.float64))
    ulp = np.abs(got - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    return ulp.max(), ulp.mean()


if __name__ == "__main__":
    error, q = fit_exp()
    worst, mean = evaluate_exp([float(np.float32(v)) for v in q])
    print(f"exp: relative error of the fit in double {error:.3g}; float32 evaluation max {worst:.2f} ulp, mean {mean:.3f} ulp")
    print("q:", ", ".join(repr(float(np.float32(v))) for v in q))
    p, q, e = fit(NP, NQ, HI)
    worst, mean, where = evaluate(p, q)
    print(f"erf: relative error of the fit in double {e:.3g}; float32 evaluation max {worst:.2f} ulp (at x = {where:.4f}), mean {mean:.3f} ulp")
    print("p:", ", ".join(repr(float(np.float32(v))) for v in p))
    print("q:", ", ".join(repr(float(np.float32(v))) for v in q))
