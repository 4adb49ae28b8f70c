"""The fast per-minute RR statistics agree with statistics measured on simulated beats."""

import numpy as np
import pytest

from lsmkit import physiology


@pytest.mark.parametrize("hr, sigma, rho", [(55, 60.0, 0.6), (80, 30.0, 0.7), (150, 5.0, 0.85)])
def test_sampled_statistics_match_simulated_beats(hr, sigma, rho):
    rng = np.random.default_rng(0)
    mu, n = 60000.0 / hr, 1500
    beats = [physiology.rr_statistics(physiology.simulate_beats(mu, sigma, rho, hr, rng)) for _ in range(n)]
    fast = physiology.sample_rr_statistics(
        np.full(n, mu), np.full(n, sigma), np.full(n, rho), rng.standard_normal((5, n))
    )
    for name in ("rr_median", "rr_p20", "rr_p80", "rmssd", "sdnn", "rr_entropy"):
        ref = np.array([b[name] for b in beats])
        scale = max(ref.std(), 1e-9)
        assert abs(fast[name].mean() - ref.mean()) < 0.3 * scale + 0.03 * abs(ref.mean()), name
        assert 0.6 < fast[name].std() / scale < 1.6, name


def test_hrv_falls_with_heart_rate():
    mean_rr = 60000.0 / np.array([50.0, 70.0, 100.0, 150.0])
    sigma = physiology.rr_sigma(mean_rr, sigma_rest=50.0, mean_rr_rest=60000.0 / 60)
    assert np.all(np.diff(sigma) < 0)
    assert sigma[-1] < sigma[0] / 5


def test_rr_statistics_on_known_series():
    rr = np.array([800.0, 810.0, 790.0, 800.0])
    stats = physiology.rr_statistics(rr)
    assert stats["rr_median"] == 800.0
    assert stats["rmssd"] == pytest.approx(np.sqrt((100 + 400 + 100) / 3))
    assert stats["sdnn"] == pytest.approx(np.std(rr, ddof=1))
    assert physiology.shannon_entropy([0, 1, 8, 9], bin_ms=8) == pytest.approx(1.0)
