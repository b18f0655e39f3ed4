"""The CDNOW sample imported as raw transactions through the normal order import and valued as of 1997-09-30 in weeks
reproduces the published BG/NBD and Gamma-Gamma fits (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.cdnow import SUMMARY, import_cdnow
from tricrm_tui.services import clv, rfm, value

CALIBRATION_END = dt.date(1997, 9, 30)


@pytest.fixture
def cdnow_ctx(ctx, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    # 39 weeks = 273 days: the horizon of the README's conditional expectation.
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "value.toml").write_text('time_unit = "weeks"\nexpected_days = 273\n')
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(config))
    assert import_cdnow(ctx, tmp_path) == 6919
    return ctx


def _codes(ctx, v: value.Valuation) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return rfm.customer_labels(s, v.summary.ids)[0]


def test_summary_from_the_database_matches_the_published_one(cdnow_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    v = value.compute_valuation(cdnow_ctx, CALIBRATION_END)
    # The sample runs on to 1998-06-30: the orders are grouped for the calibration date, and
    # as of the sample's last day the maintained aggregates give the same summary as they do.
    assert not v.summary.from_aggregates
    end = dt.date(1998, 6, 30)
    with cdnow_ctx.session() as s:
        fast = rfm.order_summary(s, cdnow_ctx.db.backend, end)
        monkeypatch.setattr(rfm, "aggregates_current", lambda _s, _d: False)
        grouped = rfm.order_summary(s, cdnow_ctx.db.backend, end)
    assert fast.from_aggregates and not grouped.from_aggregates
    for name in ("ids", "first_day", "last_day", "orders", "purchase_days", "monetary_cents",
                 "repeat_cents"):  # fmt: skip
        assert np.array_equal(getattr(fast, name), getattr(grouped, name)), name
    x, t_x, T, m = value._model_inputs(v.summary, 7.0)
    published = np.loadtxt(SUMMARY, delimiter=",", skiprows=1)
    order = np.argsort(_codes(cdnow_ctx, v))
    assert len(order) == 2357
    assert x.sum() == 2457 and int((x > 0).sum()) == 946
    assert np.array_equal(x[order], published[:, 1])
    assert np.allclose(t_x[order], published[:, 2], atol=0.005)
    assert np.allclose(T[order], published[:, 3], atol=0.005)
    assert np.allclose(m[order], published[:, 4], atol=0.005)


def test_model_report_reproduces_the_papers(cdnow_ctx) -> None:  # type: ignore[no-untyped-def]
    report = value.model_report(cdnow_ctx, CALIBRATION_END)
    assert report["as_of"] == CALIBRATION_END
    assert report["customers"] == 2357 and report["time_unit"] == "weeks"
    bg, gg = report["bgnbd"], report["gamma_gamma"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert round(bg["loglik"], 1) == -9582.4
    assert [round(gg[k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]
    assert round(gg["loglik"], 2) == -4055.92


def test_conditional_expectations_of_the_readme(cdnow_ctx) -> None:  # type: ignore[no-untyped-def]
    value.value_refresh(cdnow_ctx, CALIBRATION_END)
    first = value.value_history(cdnow_ctx, "CD0001").items[0]
    # Customer 1: x = 2, t_x = 30.43, T = 38.86 → E[X(39)] = 1.226 (Hardie's spreadsheet).
    assert first.expected_purchases == pytest.approx(1.226, abs=5e-4)
    v = value.compute_valuation(cdnow_ctx, CALIBRATION_END)
    assert v.bgnbd is not None and v.gamma_gamma is not None
    uncond = clv.expected_purchases(v.bgnbd, np.array([1.0, 3.0, 32.0, 78.0]))
    assert np.allclose(uncond, [0.0532, 0.1506, 1.0437, 1.8576], atol=5e-4)
    x, _t, _T, m = value._model_inputs(v.summary, 7.0)
    order = np.argsort(_codes(cdnow_ctx, v))[:10]
    spend = clv.expected_average_spend(v.gamma_gamma, x[order], m[order])
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    assert np.abs(spend - published).max() < 0.01


def test_tiers_and_at_risk_use_the_model(cdnow_ctx) -> None:  # type: ignore[no-untyped-def]
    tiers = value.tiers_summary(cdnow_ctx, CALIBRATION_END)
    assert tiers.basis == "clv" and not tiers.messages
    high, medium, low = tiers.tiers
    # The high tier is the fewest top customers making ≥ 20% of predicted value.
    assert 0.20 <= high.share < 0.25 and 0.45 <= high.share + medium.share < 0.55
    assert high.customers + medium.customers + low.customers == 2357
    assert high.threshold is not None and medium.threshold is not None
    assert high.threshold >= medium.threshold
    page = value.at_risk(cdnow_ctx, threshold=0.3, factor=3.0, as_of=CALIBRATION_END, limit=1000)
    assert page.total > 0
    assert all(r.p_alive is not None for r in page.items)
    assert all(("p_alive" in r.reasons) == (r.p_alive < 0.3) for r in page.items)
    stakes = [r.value_at_stake for r in page.items]
    assert stakes == sorted(stakes, reverse=True)
