"""A beat-interval model behind the simulator's heart-rate-variability channels.

Within one minute, beat-to-beat (RR) intervals are modelled as a stationary Gaussian AR(1)
process with mean ``mu`` (ms, 60000 / heart rate), standard deviation ``sigma`` and lag-1
autocorrelation ``rho``. Two routes lead to the per-minute statistics of the registry
(median, 20th and 80th percentile, RMSSD, SDNN, Shannon entropies of RR and of RR differences):

* :func:`simulate_beats` + :func:`rr_statistics` draw the beats and measure them, exactly as a
  device would (:func:`lsmkit.features.rr_statistics`, re-exported here, is the definition the
  device readers use too). This is the reference, and too slow to feed training on the fly.
* :func:`sample_rr_statistics` draws the per-minute statistics directly from their sampling
  distributions under the same model (chi-square for the sample SD, the AR(1) relation
  ``RMSSD = sigma * sqrt(2 (1 - rho))``, and a plug-in entropy table measured once on simulated
  beats). It is vectorised over any number of minutes and agrees with the reference
  (``tests/test_physiology.py`` checks means and spreads).

HRV falls as heart rate rises because ``sigma`` shrinks with the mean interval
(:func:`rr_sigma`), the usual exponential-like HR dependence of vagally mediated HRV.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import lfilter

# One definition of the per-minute RR statistics, shared with the device readers.
from .features import ENTROPY_BIN_MS, rr_statistics, shannon_entropy

__all__ = [
    "ENTROPY_BIN_MS",
    "rr_sigma",
    "simulate_beats",
    "rr_statistics",
    "sample_rr_statistics",
    "shannon_entropy",
]

_Z80 = 0.8416212335729143  # standard normal 80th percentile


def rr_sigma(mean_rr, sigma_rest, mean_rr_rest, exponent=2.5):
    """Return the within-minute RR standard deviation (ms) at mean interval ``mean_rr`` (ms).

    Scales as a power of the mean interval relative to the person's resting interval: with the
    default exponent, doubling heart rate divides ``sigma`` by about 5.7.

    Parameters
    ----------
    mean_rr : float or array-like
        Mean RR interval (ms).
    sigma_rest : float
        The person's RR standard deviation at rest (ms).
    mean_rr_rest : float
        The person's resting mean RR interval (ms).
    exponent : float, default 2.5
        Power of the interval ratio.

    Returns
    -------
    float or numpy.ndarray
        ``sigma_rest * (mean_rr / mean_rr_rest) ** exponent`` (ms).
    """
    return sigma_rest * (np.asarray(mean_rr) / mean_rr_rest) ** exponent


def simulate_beats(mu: float, sigma: float, rho: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` consecutive RR intervals (ms) of a stationary Gaussian AR(1) process.

    Parameters
    ----------
    mu : float
        Mean interval (ms), 60000 / heart rate.
    sigma : float
        Standard deviation of the intervals (ms).
    rho : float
        Lag-1 autocorrelation.
    n : int
        Number of intervals.
    rng : numpy.random.Generator
        The random generator.

    Returns
    -------
    numpy.ndarray
        ``n`` intervals (ms); the process starts in its stationary distribution.
    """
    innovations = rng.standard_normal(n) * sigma * np.sqrt(1.0 - rho**2)
    x0 = rng.standard_normal() * sigma  # start in the stationary distribution
    x, _ = lfilter([1.0], [1.0, -rho], innovations, zi=[rho * x0])
    return mu + x


_TABLE_SIGMA = np.geomspace(0.5, 400.0, 41)  # ms
_TABLE_N = np.array([20, 40, 60, 90, 130, 180, 240])  # beats in the minute


@lru_cache(maxsize=1)
def _entropy_table() -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of the plug-in entropy of ``n`` Gaussian draws with SD ``sigma``.

    Measured once on simulated samples (fixed seed, ~0.3 s) rather than derived, because the
    plug-in estimator's small-sample bias is what a device reports.
    """
    rng = np.random.default_rng(20241013)
    reps = 64
    mean = np.empty((len(_TABLE_SIGMA), len(_TABLE_N)))
    std = np.empty_like(mean)
    for j, n in enumerate(_TABLE_N):
        draws = rng.standard_normal((reps, n))
        for i, sigma in enumerate(_TABLE_SIGMA):
            # A random bin phase per row: devices do not align bins with the mean interval.
            bins = np.floor(draws * sigma / ENTROPY_BIN_MS + rng.uniform(size=(reps, 1)))
            h = np.empty(reps)
            for r in range(reps):
                _, counts = np.unique(bins[r], return_counts=True)
                p = counts / n
                h[r] = -(p * np.log2(p)).sum()
            mean[i, j], std[i, j] = h.mean(), h.std()
    return mean, std


def _entropy_moments(sigma, n):
    """Mean and SD of the plug-in entropy by bilinear interpolation in (log sigma, n), clamped."""
    table = np.stack(_entropy_table(), axis=-1).reshape(-1, 2)  # (I * J, 2): mean, std
    n_j = len(_TABLE_N)
    fi = np.interp(np.log(sigma), np.log(_TABLE_SIGMA), np.arange(len(_TABLE_SIGMA), dtype=float))
    fj = np.interp(n, _TABLE_N, np.arange(n_j, dtype=float))
    i0 = np.minimum(fi.astype(np.intp), len(_TABLE_SIGMA) - 2)
    j0 = np.minimum(fj.astype(np.intp), n_j - 2)
    wi, wj = (fi - i0)[..., None], (fj - j0)[..., None]
    corner = i0 * n_j + j0
    value = (table[corner] * (1 - wi) + table[corner + n_j] * wi) * (1 - wj) + (
        table[corner + 1] * (1 - wi) + table[corner + n_j + 1] * wi
    ) * wj
    return value[..., 0], value[..., 1]


def sample_rr_statistics(mu, sigma, rho, noise) -> dict[str, np.ndarray]:
    """Per-minute RR statistics drawn from their sampling distributions under the AR(1) model.

    Parameters
    ----------
    mu, sigma, rho : array-like
        Arrays of one shape: mean RR (ms), RR SD (ms) and lag-1 autocorrelation per minute.
    noise : numpy.ndarray
        Standard normal draws of shape ``(5, *mu.shape)`` (randomness is an argument).

    Returns
    -------
    dict of str to numpy.ndarray
        ``rr_median``, ``rr_p20``, ``rr_p80``, ``rmssd``, ``sdnn``, ``rr_entropy`` and
        ``rr_diff_entropy``, each shaped like ``mu``.
    """
    mu, sigma, rho = np.broadcast_arrays(np.asarray(mu, float), np.asarray(sigma, float), np.asarray(rho, float))
    n = np.clip(60000.0 / mu, 2.0, None)  # beats in the minute
    n_eff = np.clip(n * (1.0 - rho) / (1.0 + rho), 2.0, None)  # effective sample size of AR(1)
    # Sample SD: sigma * sqrt(chi2_k / k); for AR(1) the variance estimate has about
    # n (1 - rho^2) / (1 + rho^2) degrees of freedom. Wilson-Hilferty normal approximation.
    k = np.clip(n * (1.0 - rho**2) / (1.0 + rho**2) - 1.0, 1.0, None)
    chi_ratio = np.clip(1.0 - 2.0 / (9.0 * k) + noise[0] * np.sqrt(2.0 / (9.0 * k)), 0.05, None) ** 1.5
    sdnn = sigma * chi_ratio
    # Successive differences of AR(1) have SD sigma*sqrt(2(1-rho)); they are nearly independent.
    sd_diff = sigma * np.sqrt(2.0 * (1.0 - rho))
    rmssd = sd_diff * np.clip(1.0 + noise[1] / np.sqrt(2.0 * n), 0.05, None)
    median = mu + noise[2] * 1.05 * sigma / np.sqrt(n_eff)  # SE of the median, calibrated on beats
    spread = _Z80 * sdnn
    h_mean, h_std = _entropy_moments(sdnn, n)
    hd_mean, hd_std = _entropy_moments(rmssd, n - 1)
    return {
        "rr_median": median,
        "rr_p20": median - spread,
        "rr_p80": median + spread,
        "rmssd": rmssd,
        "sdnn": sdnn,
        # The sample SD already carries most of the entropy's spread; add the remainder.
        "rr_entropy": np.clip(h_mean + 0.6 * noise[3] * h_std, 0.0, None),
        "rr_diff_entropy": np.clip(hd_mean + 0.6 * noise[4] * hd_std, 0.0, None),
    }
