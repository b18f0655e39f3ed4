"""Predicted lifetime value: the BG/NBD and Gamma-Gamma models, fitted by maximum likelihood.

Sources:

* BG/NBD — P. S. Fader, B. G. S. Hardie and K. L. Lee, "'Counting Your Customers' the Easy Way:
  An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 2005. While alive a customer
  buys as a Poisson process with rate λ ~ Gamma(r, α); after every purchase they drop out with
  probability p ~ Beta(a, b). Data per customer: x repeat purchases, the time t_x of the last
  one and the age T, all measured from the first purchase.
* Gamma-Gamma — P. S. Fader, B. G. S. Hardie and K. L. Lee, "RFM and CLV: Using Iso-Value
  Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 2005. The spend of a
  transaction is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; fitted on the mean spend
  ``m`` of each repeat buyer's ``x`` repeat transactions.

Both likelihoods are written in log space with ``gammaln``/``betaln`` and ``logaddexp`` (the
BG/NBD's two-term sum), vectorised over customers, with analytic gradients so L-BFGS-B
converges in a few dozen evaluations. Parameters are optimised on the log scale (all must be
positive). Identical data rows are collapsed and weighted, which makes fits on 100k customers
cost what the distinct (x, t_x, T) triples cost.

numpy and scipy are imported at module level: this module is only imported inside the value
commands, so ``tricrm --help`` never loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

MIN_CUSTOMERS = 10
"""Fewer customers than this cannot identify four parameters: the caller falls back."""
MIN_REPEAT_BUYERS = 5
"""The BG/NBD dropout (a, b) and the Gamma-Gamma need repeat buyers to learn from."""


class FitError(ValueError):
    """The data cannot support a fit (too few customers, no repeat buyers, no convergence)."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    customers: int

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "loglik": self.loglik}


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    loglik: float
    customers: int

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma, "loglik": self.loglik}


def _group_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns, how often each occurs, and each input row's group.

    A lexsort and a diff: several times faster than ``np.unique(axis=0)`` on 100k rows.
    """
    order = np.lexsort(columns[::-1])
    cols = [c[order] for c in columns]
    change = np.ones(order.size, dtype=bool)
    if order.size > 1:
        change[1:] = np.any([np.diff(c) != 0 for c in cols], axis=0)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, order.size)).astype(float)
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    return [c[starts] for c in cols], counts, group


def _collapse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and their counts (the fit's weights)."""
    uniq, counts, _group = _group_rows(*columns)
    return uniq, counts


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    """Σ w·v as a ufunc sum: no BLAS call (see :func:`single_threaded_blas`)."""
    return float(np.sum(w * v))


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the fits with one BLAS thread.

    L-BFGS-B calls BLAS on 4-vectors at every step; OpenBLAS's worker threads busy-wait
    between such tiny calls, and on a shared 2-core machine that made a 100k-customer fit 10×
    slower (5 s instead of 0.5 s). threadpoolctl (the joblib/scikit-learn project's tool for
    exactly this) limits the pool for the duration of the fit and restores it after.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


# --- BG/NBD -------------------------------------------------------------------------------


def _bgnbd_terms(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-row log-likelihood and the two log terms (and their mask) it is a log-sum of."""
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    l3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    l4 = np.full_like(l3, -np.inf)
    xr = x[repeat]
    l4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return base + np.logaddexp(l3, l4), l3, l4, repeat


def bgnbd_loglik(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> float:
    """Total BG/NBD log-likelihood of (r, α, a, b) over the customers (FHL 2005, eq. 6)."""
    r, alpha, a, b = params
    ll, *_ = _bgnbd_terms(r, alpha, a, b, *(np.asarray(v, float) for v in (x, t_x, T)))
    return float(ll.sum())


@dataclass(frozen=True)
class _BgNbdData:
    """The fit's data, indexed so every transcendental runs over distinct values only.

    x, t_x and T take few distinct values (whole days, or days/7): logs of α + T and α + t_x
    are taken per distinct value and gathered, the special functions per distinct x. Rows
    without repeat purchases have a one-term bracket and are kept apart.
    """

    xu: np.ndarray  # distinct x
    wu: np.ndarray  # total weight per distinct x
    tu: np.ndarray  # distinct t_x
    Tu: np.ndarray  # distinct T
    zero_T: np.ndarray  # x = 0 rows: index into Tu
    zero_w: np.ndarray
    rep_x: np.ndarray  # x > 0 rows: index into xu, tu, Tu, and weight
    rep_t: np.ndarray
    rep_T: np.ndarray
    rep_w: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> _BgNbdData:
        (ux, ut, uT), w = _collapse(x, t_x, T)
        xu, ix = np.unique(ux, return_inverse=True)
        tu, it = np.unique(ut, return_inverse=True)
        Tu, iT = np.unique(uT, return_inverse=True)
        ix, it, iT = ix.ravel(), it.ravel(), iT.ravel()
        rep = ux > 0
        return cls(
            xu=xu,
            wu=np.bincount(ix, weights=w, minlength=xu.size),
            tu=tu,
            Tu=Tu,
            zero_T=iT[~rep],
            zero_w=w[~rep],
            rep_x=ix[rep],
            rep_t=it[rep],
            rep_T=iT[rep],
            rep_w=w[rep],
        )


def _bgnbd_objective(logp: np.ndarray, d: _BgNbdData) -> tuple[float, np.ndarray]:
    """Negative log-likelihood and its gradient in log-parameters (chain rule: θ·∂/∂θ).

    For repeat buyers the bracket is ``l3 + softplus(l4 − l3)``; its two weights are the
    logistic of the same difference.
    """
    r, alpha, a, b = np.exp(logp)
    xu, wu = d.xu, d.wu
    base = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xu) - betaln(a, b)
    log_aTu = np.log(alpha + d.Tu)
    inv_aTu = 1.0 / (alpha + d.Tu)
    log_atu = np.log(alpha + d.tu)
    inv_atu = 1.0 / (alpha + d.tu)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_bx1u = np.log(b + xu - 1)  # used for x ≥ 1 only
    x = xu[d.rep_x]
    w = d.rep_w
    rx = r + x
    log_aT = log_aTu[d.rep_T]
    log_at = log_atu[d.rep_t]
    diff = np.log(a) - log_bx1u[d.rep_x] + rx * (log_aT - log_at)  # l4 − l3
    e = np.exp(-np.abs(diff))
    softplus = np.maximum(diff, 0) + np.log1p(e)
    p4 = np.where(diff >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    w4 = w * p4
    w3 = w - w4
    w0 = d.zero_w
    log_aT0 = log_aTu[d.zero_T]
    psi_abx = digamma(a + b + xu)
    d_r = _wsum(wu, digamma(r + xu) - digamma(r) + np.log(alpha))
    d_r -= _wsum(w0, log_aT0) + _wsum(w3, log_aT) + _wsum(w4, log_at)
    d_alpha = r / alpha * wu.sum() - r * _wsum(w0, inv_aTu[d.zero_T])
    d_alpha -= _wsum(w3 * rx, inv_aTu[d.rep_T]) + _wsum(w4 * rx, inv_atu[d.rep_t])
    d_a = _wsum(wu, digamma(a + b) - psi_abx) + w4.sum() / a
    d_b = _wsum(wu, digamma(b + xu) - psi_abx - digamma(b) + digamma(a + b))
    d_b -= _wsum(w4, 1.0 / (b + x - 1))
    grad = np.array([r * d_r, alpha * d_alpha, a * d_a, b * d_b])
    ll = _wsum(wu, base) - r * _wsum(w0, log_aT0) + _wsum(w, softplus - rx * log_aT)
    value = -float(ll)
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(4)
    return value, -grad


def _check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if x.size < MIN_CUSTOMERS:
        raise FitError(f"too few customers to fit ({x.size}; at least {MIN_CUSTOMERS} needed)")
    if int((x > 0).sum()) < MIN_REPEAT_BUYERS:
        raise FitError(
            f"too few repeat buyers to fit ({int((x > 0).sum())}; "
            f"at least {MIN_REPEAT_BUYERS} needed)"
        )
    if np.any(t_x > T) or np.any(t_x < 0) or np.any(x < 0):
        raise FitError("inconsistent summary: need 0 <= t_x <= T and x >= 0")
    if float(T.max()) <= 0:
        raise FitError("every customer is brand new (T = 0): nothing to learn from yet")


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbdParams:
    """Maximum-likelihood (r, α, a, b) for the BG/NBD.

    Raises :class:`FitError` when the data cannot support a fit, so callers can fall back to
    a monetary-only view instead of printing NaN.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    _check_summary(x, t_x, T)
    data = _BgNbdData.build(x, t_x, T)
    # Start from a dropout-free fit's moments: λ ≈ purchases per unit of time.
    rate = max(float((x.sum() + 1) / max(T.sum(), 1e-9)), 1e-6)
    start = np.log([1.0, 1.0 / rate, 1.0, 1.0])
    best = None
    for guess in (start, np.zeros(4)):
        with single_threaded_blas():
            res = minimize(
                _bgnbd_objective,
                guess,
                args=(data,),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-12.0, 12.0)] * 4,
                options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
            )
        if best is None or res.fun < best.fun:
            best = res
        if res.success and np.all(np.abs(res.x) < 11.9):
            break
    assert best is not None
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    loglik = -float(best.fun)
    if not np.isfinite(loglik) or not all(np.isfinite([r, alpha, a, b])):
        raise FitError("the BG/NBD fit did not converge")
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, loglik=loglik, customers=int(x.size))


def p_alive(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still alive | x, t_x, T) = 1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)).

    FHL 2005 (eq. 11 of the note "Computing P(alive) using the BG/NBD model"); a customer with no
    repeat purchase cannot have dropped out yet under the model, so P(alive) = 1 for x = 0.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    out = np.ones_like(x)
    rep = x > 0
    xr = x[rep]
    log_odds = (
        np.log(a)
        - np.log(b + xr - 1)
        + (r + xr) * (np.log(alpha + T[rep]) - np.log(alpha + t_x[rep]))
    )
    out[rep] = np.exp(-np.logaddexp(0.0, log_odds))
    return out


def _a_minus_one(a: float) -> float:
    """The expectations divide by (a − 1); nudge a = 1 exactly off its removable singularity."""
    return a - 1 if abs(a - 1) > 1e-9 else 1e-9


def expected_purchases(params: BgNbdParams, t: float | np.ndarray) -> np.ndarray:
    """Unconditional E[X(t)] for a new customer (FHL 2005, eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    head = (a + b - 1) / _a_minus_one(a)
    return head * (1 - np.exp(r * np.log(alpha / (alpha + t))) * hyp2f1(r, b, a + b - 1, z))


def prob_no_purchase(params: BgNbdParams, t: float) -> float:
    """P(X(t) = 0) for a new customer (FHL 2005, eq. 8 at x = 0): (α/(α+t))^r."""
    return float(np.exp(params.r * np.log(params.alpha / (params.alpha + t))))


def conditional_expected_purchases(
    params: BgNbdParams, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (FHL 2005, eq. 10).

    ``t`` may be a vector broadcast against the customers (column vector for a grid).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    head = (a + b + x - 1) / _a_minus_one(a)
    z = t / (alpha + T + t)
    power = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    body = 1 - power * hyp2f1(r + x, b + x, a + b + x - 1, z)
    safe = np.where(x > 0, b + x - 1, 1.0)
    odds = np.where(
        x > 0,
        np.exp(np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))),
        0.0,
    )
    out = head * body / (1 + odds)
    return np.where(np.isfinite(out), np.maximum(out, 0.0), 0.0)


# --- Gamma-Gamma --------------------------------------------------------------------------


def _gg_terms(p: float, q: float, g: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


def gamma_gamma_loglik(params: tuple[float, float, float], x: np.ndarray, m: np.ndarray) -> float:
    """Total Gamma-Gamma log-likelihood of (p, q, γ) over repeat buyers (FHL 2005b, eq. 3)."""
    p, q, g = params
    return float(_gg_terms(p, q, g, np.asarray(x, float), np.asarray(m, float)).sum())


def _gg_objective(
    logp: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    p, q, g = np.exp(logp)
    ll = _gg_terms(p, q, g, x, m)
    common = digamma(p * x + q)
    d_p = x * (common - digamma(p * x) + np.log(m) + np.log(x) - np.log(g + m * x))
    d_q = common - digamma(q) + np.log(g) - np.log(g + m * x)
    d_g = q / g - (p * x + q) / (g + m * x)
    grad = np.array([p * _wsum(w, d_p), q * _wsum(w, d_q), g * _wsum(w, d_g)])
    value = -float(_wsum(w, ll))
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(3)
    return value, -grad


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> GammaGammaParams:
    """Maximum-likelihood (p, q, γ) on repeat buyers (x > 0) with mean repeat spend m > 0."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < MIN_REPEAT_BUYERS:
        raise FitError(
            f"too few repeat buyers with spend to fit Gamma-Gamma ({x.size}; "
            f"at least {MIN_REPEAT_BUYERS} needed)"
        )
    if np.ptp(m) == 0:
        raise FitError("every repeat buyer spends the same: the spend model is degenerate")
    (ux, um), w = _collapse(x, m)
    start = np.log([1.0, 1.0, float(np.mean(m))])
    with single_threaded_blas():
        res = minimize(
            _gg_objective,
            start,
            args=(ux, um, w),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-12.0, 12.0), (-12.0, 12.0), (-12.0, 25.0)],
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
    p, q, g = (float(v) for v in np.exp(res.x))
    loglik = -float(res.fun)
    if not np.isfinite(loglik) or q <= 1:
        # q ≤ 1 gives the spend distribution no finite mean: no usable prediction.
        raise FitError("the Gamma-Gamma fit did not give a finite mean spend (q <= 1)")
    return GammaGammaParams(p=p, q=q, gamma=g, loglik=loglik, customers=int(x.size))


def expected_average_spend(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[M | x, m̄] = p(γ + x·m̄) / (p·x + q − 1) (FHL 2005b, eq. 5); the population mean
    p·γ/(q − 1) for customers without repeat purchases."""
    p, q, g = params.p, params.q, params.gamma
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    m = np.where(x > 0, m, 0.0)
    return p * (g + x * m) / (p * x + q - 1)


# --- CLV ----------------------------------------------------------------------------------


def discounted_expected_purchases(
    params: BgNbdParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    *,
    periods: int,
    period_length: float,
    discount_rate: float,
) -> np.ndarray:
    """Σ_{k=1..K} (E[Y(k·Δ)] − E[Y((k−1)·Δ)]) / (1 + d)^k.

    The purchases expected in each period (of ``period_length`` model time units, e.g. one
    month) are discounted at the end of that period, the scheme of ``lifetimes``'
    ``customer_lifetime_value``. Collapsing identical (x, t_x, T) rows keeps the K × n grid of
    hypergeometric evaluations to the distinct triples.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if x.size == 0 or periods <= 0:
        return np.zeros_like(x)
    (ux, ut, uT), _counts, inverse = _group_rows(x, t_x, T)
    steps = (np.arange(periods + 1, dtype=float) * period_length)[:, None]
    cum = conditional_expected_purchases(params, steps, ux, ut, uT)
    cum[0] = 0.0
    per_period = np.diff(cum, axis=0)
    factors = (1.0 + discount_rate) ** -np.arange(1, periods + 1, dtype=float)
    return (factors[:, None] * per_period).sum(axis=0)[inverse]
