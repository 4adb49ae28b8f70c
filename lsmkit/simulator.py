"""A physiologically plausible simulator of per-minute wearable data: lsmkit's default data source.

``simulate(n_participants, days, seed)`` returns a cohort in the recordings form of
:mod:`lsmkit.data`. It runs in three steps, each a function below:

1. :func:`sample_traits` draws each participant's traits (age, sex, fitness, resting heart rate,
   chronotype, sensor noise, skin conductance baseline, ...).
2. :func:`daily_schedule` lays out each day minute by minute: sleep, work or leisure, commutes,
   exercise sessions from the eight LSM classes, stress episodes, stairs and hills, and the
   device's own gaps (off-wrist, charging, whole days). Only this step loops in Python (once per
   participant-day); everything else is vectorised over ``(participant, minute)``.
3. :func:`physiology` turns the schedule into the 26 channels with the couplings that matter:
   heart rate follows metabolic intensity through a fast-on, slow-off response and each
   person's resting level and maximum; RR statistics come from the beat-interval model of
   :mod:`lsmkit.physiology`, so HRV falls as heart rate rises; accelerometer features follow the
   activity's rhythm and energy; skin temperature has a circadian rhythm, rises in sleep and
   falls in exercise; EDA is a tonic level plus phasic responses in stress and exercise;
   altitude variability rises on stairs and hills.

Missingness is realistic: off-wrist and charging gaps and whole-day gaps blank every channel;
PPG drops out in motion (heart channels), EDA loses contact. The complete values behind every
gap are kept in the ``truth`` variable so imputation can be scored on real-looking gaps.

Units and channel meanings follow :data:`lsmkit.CHANNELS`; magnitudes come from the usual
exercise-physiology relations (Tanaka's maximum heart rate, heart-rate reserve tracking
VO2 reserve, MET values of the activities) and typical wrist-device feature ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import lfilter
from scipy.stats import norm

from .channels import CHANNEL_NAMES
from .data import categorical, make_recordings
from .labels import ACTIVITIES, SEXES
from .physiology import rr_sigma, sample_rr_statistics

__all__ = ["simulate", "ExerciseClass", "EXERCISE_CLASSES", "sample_traits", "daily_schedule", "physiology"]

MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class ExerciseClass:
    """How one of the eight LSM exercise classes looks to a wrist device.

    Parameters
    ----------
    name : str
        The class name (an entry of :data:`lsmkit.labels.ACTIVITIES`).
    share : float
        Share of sessions (walk is about half, as in the paper's data).
    minutes : tuple of int
        Session length range in minutes, ``(low, high)``.
    mets : float
        Metabolic equivalent while active.
    cadence : float
        Steps per minute while active.
    energy : float
        Log accelerometer energy while active.
    rhythm : float
        Jerk autocorrelation ratio (rhythmic -> high).
    duty : float
        Fraction of minutes "on" (intervals, sets).
    outdoors_hills : float
        Probability that a session has hills.
    """

    name: str
    share: float  # share of sessions (walk is about half, as in the paper's data)
    minutes: tuple[int, int]  # session length range
    mets: float  # metabolic equivalent while active
    cadence: float  # steps per minute while active
    energy: float  # log accelerometer energy while active
    rhythm: float  # jerk autocorrelation ratio (rhythmic -> high)
    duty: float  # fraction of minutes "on" (intervals, sets)
    outdoors_hills: float  # probability a session has hills


EXERCISE_CLASSES: tuple[ExerciseClass, ...] = (
    ExerciseClass("walk", 0.50, (20, 70), 3.8, 112, -1.6, 0.70, 1.0, 0.35),
    ExerciseClass("run", 0.14, (20, 60), 9.5, 165, 0.6, 0.80, 1.0, 0.35),
    ExerciseClass("bike", 0.10, (30, 90), 7.0, 4, -2.6, 0.45, 1.0, 0.45),
    ExerciseClass("swim", 0.04, (25, 60), 7.5, 2, 0.0, 0.55, 1.0, 0.0),
    ExerciseClass("elliptical", 0.06, (20, 45), 6.0, 125, -1.2, 0.75, 1.0, 0.0),
    ExerciseClass("weightlifting", 0.06, (30, 60), 4.5, 8, -1.5, 0.25, 0.35, 0.0),
    ExerciseClass("hiit", 0.05, (15, 35), 9.0, 95, 0.2, 0.40, 0.5, 0.0),
    ExerciseClass("strength_training", 0.05, (30, 60), 5.0, 12, -1.8, 0.30, 0.45, 0.0),
)
assert tuple(c.name for c in EXERCISE_CLASSES) == ACTIVITIES[1:]
_SHARES = np.array([c.share for c in EXERCISE_CLASSES]) / sum(c.share for c in EXERCISE_CLASSES)

# Minute contexts of the schedule (internal; the public labels are activity/sleep/stress/terrain).
SLEEP, SEDENTARY, LIGHT, COMMUTE, EXERCISE = range(5)


# --------------------------------------------------------------------------------------------
# 1. Traits
# --------------------------------------------------------------------------------------------
def sample_traits(rng: np.random.Generator) -> dict[str, float]:
    """Draw one participant's traits.

    Parameters
    ----------
    rng : numpy.random.Generator
        The participant's random generator.

    Returns
    -------
    dict
        Trait name -> value: ``age``, ``sex`` (an index into :data:`lsmkit.labels.SEXES`),
        ``fitness`` (a z-score within age and sex), ``vo2max`` (METs), ``resting_hr``, ``max_hr``
        (Tanaka et al. 2001), ``chronotype`` (mid-sleep hour), ``sleep_need`` (hours),
        ``exercise_rate`` (sessions a day), ``hrv_sigma`` (ms), ``scl_base`` (uS), ``temp_base``
        (degC), ``noise`` (sensor noise scale), ``wear`` (how reliably the device is worn) and
        ``works``.
    """
    age = float(np.clip(rng.normal(42, 14), 18, 80))
    sex = int(rng.integers(2))  # index into SEXES
    fitness = float(np.clip(rng.normal(0, 1), -2.5, 2.5))  # z-score within age and sex
    # VO2max in METs: falls about 0.1 MET a year, lower in women, +/- 1.8 METs per SD of fitness.
    vo2max = float(np.clip(13.5 - 0.09 * (age - 20) - 1.6 * (sex == 0) + 1.8 * fitness, 5.0, 22.0))
    resting_hr = float(np.clip(66 - 4.0 * fitness + 3.0 * (sex == 0) + rng.normal(0, 4), 48, 84))
    return {
        "age": age,
        "sex": sex,
        "fitness": fitness,
        "vo2max": vo2max,
        "resting_hr": resting_hr,
        "max_hr": 208.0 - 0.7 * age,  # Tanaka et al. 2001
        "chronotype": float(np.clip(rng.normal(3.5, 1.0), 1.0, 6.5)),  # mid-sleep hour
        "sleep_need": float(np.clip(rng.normal(7.4, 0.6), 5.5, 9.5)),  # hours
        "exercise_rate": float(np.clip(0.45 + 0.2 * fitness + rng.normal(0, 0.15), 0.05, 1.2)),  # sessions/day
        "hrv_sigma": float(np.clip(rng.lognormal(np.log(55), 0.3) * (1 - 0.007 * (age - 40)), 15, 150)),  # ms
        "scl_base": float(rng.lognormal(np.log(2.0), 0.6)),  # uS
        "temp_base": float(rng.normal(32.6, 0.6)),  # degC
        "noise": float(rng.uniform(0.6, 1.5)),  # sensor noise scale
        "wear": float(rng.beta(8, 1.5)),  # how reliably the device is worn
        "works": bool(rng.random() < 0.75),
    }


# --------------------------------------------------------------------------------------------
# 2. Schedule
# --------------------------------------------------------------------------------------------
def _place(free: np.ndarray, length: int, lo: int, hi: int, rng) -> int | None:
    """A start in [lo, hi) where ``length`` minutes are all free, or None."""
    hi = min(hi, len(free) - length)
    if hi <= lo:
        return None
    for _ in range(8):
        s = int(rng.integers(lo, hi))
        if free[s : s + length].all():
            return s
    return None


def daily_schedule(traits: dict, days: int, weekday0: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Plan minute-by-minute context, exercise class, flags and device gaps for ``days`` days.

    The day runs from local midnight; sleep that starts before midnight wraps into the previous
    day's evening.

    Parameters
    ----------
    traits : dict
        The participant's traits, from :func:`sample_traits`.
    days : int
        Number of days.
    weekday0 : int
        Weekday of the first day (0 is Monday; 5 and 6 are the weekend).
    rng : numpy.random.Generator
        The participant's random generator.

    Returns
    -------
    dict of numpy.ndarray
        Arrays of length ``days * 1440``: ``context``, ``activity``, ``duty``, ``sleep``,
        ``stress``, ``terrain`` and ``off_wrist``.
    """
    total = days * MINUTES_PER_DAY
    context = np.full(total, LIGHT, dtype=np.int8)
    activity = np.zeros(total, dtype=np.int8)
    duty = np.ones(total, dtype=np.float32)  # on/off pattern inside interval sessions
    stress = np.zeros(total, dtype=bool)
    terrain = np.zeros(total, dtype=bool)
    off_wrist = np.zeros(total, dtype=bool)

    # Sleep first, for every night, so that each day's plans fit around both of its nights.
    weekends = (weekday0 + np.arange(days)) % 7 >= 5
    wakes = np.empty(days, dtype=int)
    for d in range(days):
        mid = traits["chronotype"] + 0.8 * weekends[d] + rng.normal(0, 0.4)  # mid-sleep hour
        hours = traits["sleep_need"] + 0.6 * weekends[d] + rng.normal(0, 0.6)
        onset, wakes[d] = int((mid - hours / 2) * 60), int((mid + hours / 2) * 60)
        context[max(d * MINUTES_PER_DAY + onset, 0) : d * MINUTES_PER_DAY + wakes[d]] = SLEEP
    sleep = context == SLEEP

    for d in range(days):
        day0, wake, weekend = d * MINUTES_PER_DAY, int(wakes[d]), bool(weekends[d])
        if traits["works"] and not weekend:
            commute = int(rng.integers(15, 45))
            leave = wake + int(rng.integers(30, 75))
            work = int(rng.integers(7 * 60, 9 * 60))
            context[day0 + leave : day0 + leave + commute] = COMMUTE
            context[day0 + leave + commute : day0 + leave + commute + work] = SEDENTARY
            home = leave + commute + work
            context[day0 + home : day0 + home + commute] = COMMUTE
            if rng.random() < 0.3:  # a stressful episode at work
                s = leave + commute + int(rng.integers(30, max(31, work - 90)))
                stress[day0 + s : day0 + s + int(rng.integers(20, 90))] = True
        else:  # leisure days: a few sedentary blocks (screen, reading)
            for _ in range(int(rng.integers(1, 4))):
                s = int(rng.integers(wake + 30, min(wake + 14 * 60, MINUTES_PER_DAY - 60)))
                context[day0 + s : day0 + s + int(rng.integers(30, 150))] = SEDENTARY
        if rng.random() < 0.1:  # personal stress outside work
            s = int(rng.integers(wake + 60, min(wake + 15 * 60, MINUTES_PER_DAY - 60)))
            stress[day0 + s : day0 + s + int(rng.integers(15, 60))] = True
        context[sleep] = SLEEP  # plans never eat into sleep
        free = np.isin(context[day0 : day0 + MINUTES_PER_DAY], (LIGHT, SEDENTARY))

        for _ in range(rng.poisson(traits["exercise_rate"])):
            k = int(rng.choice(len(EXERCISE_CLASSES), p=_SHARES))
            cls = EXERCISE_CLASSES[k]
            length = int(rng.integers(*cls.minutes))
            s = _place(free, length, wake + 20, MINUTES_PER_DAY - 90, rng)
            if s is None:
                continue
            seg = slice(day0 + s, day0 + s + length)
            context[seg], activity[seg] = EXERCISE, k + 1
            free[s : s + length] = False
            if cls.duty < 1.0:  # intervals or sets: on/off minutes
                period = 3 if cls.name == "hiit" else 4
                phase = np.arange(length) % period
                duty[seg] = np.where(phase < max(1, round(cls.duty * period)), 1.0, 0.15)
            if rng.random() < cls.outdoors_hills:
                h = int(rng.integers(0, max(1, length - 10)))
                terrain[day0 + s + h : day0 + s + h + int(rng.integers(5, 20))] = True

        for _ in range(rng.poisson(2.0)):  # flights of stairs during the waking day
            s = int(rng.integers(wake, MINUTES_PER_DAY - 5))
            if context[day0 + s] in (LIGHT, COMMUTE):
                terrain[day0 + s : day0 + s + int(rng.integers(1, 4))] = True

        # Device gaps: a shower, sometimes a charge, rarely hours off-wrist or the whole day.
        if rng.random() < 0.8:
            s = int(rng.integers(wake, wake + 60))
            off_wrist[day0 + s : day0 + s + int(rng.integers(8, 25))] = True
        if rng.random() < 0.35:
            s = int(rng.integers(wake + 60, MINUTES_PER_DAY - 120))
            off_wrist[day0 + s : day0 + s + int(rng.integers(40, 110))] = True
        if rng.random() < 0.25 * (1.2 - traits["wear"]) * 2:
            s = int(rng.integers(wake, MINUTES_PER_DAY - 60))
            off_wrist[day0 + s : day0 + s + int(rng.integers(120, 480))] = True
        if rng.random() < 0.3 * (1.1 - traits["wear"]) + 0.05:  # left on the charger overnight
            off_wrist[day0 + max(wake - 60 * 9, -day0) : day0 + wake - int(rng.integers(0, 60))] = True
        if rng.random() < 0.04:
            off_wrist[day0 : day0 + MINUTES_PER_DAY] = True

    context[sleep] = SLEEP
    activity[sleep] = 0
    stress &= ~sleep
    return {
        "context": context,
        "activity": activity,
        "duty": duty,
        "sleep": sleep,
        "stress": stress,
        "terrain": terrain,
        "off_wrist": off_wrist[:total],
    }


# --------------------------------------------------------------------------------------------
# 3. Physiology: schedule -> 26 channels
# --------------------------------------------------------------------------------------------
def _smooth(x: np.ndarray, tau: float) -> np.ndarray:
    """First-order low-pass along time with time constant ``tau`` minutes, starting at rest."""
    a = np.exp(-1.0 / tau)
    y, _ = lfilter([1.0 - a], [1.0, -a], x, zi=[a * x[0]])
    return y


def _ar1(rng, n: int, tau: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with correlation time ``tau`` minutes and SD ``sd``."""
    a = np.exp(-1.0 / tau)
    return _smooth(rng.standard_normal(n), tau) * sd / np.sqrt((1 - a) / (1 + a))


_CLASS = {name: np.array([getattr(c, name) for c in EXERCISE_CLASSES], dtype=float) for name in
          ("mets", "cadence", "energy", "rhythm")}
# Per-context baselines, indexed by SLEEP, SEDENTARY, LIGHT, COMMUTE, EXERCISE (exercise from _CLASS).
_CONTEXT_METS = np.array([0.95, 1.3, 1.8, 2.6, 0.0])
_CONTEXT_ENERGY = np.array([-7.2, -5.2, -3.6, -2.6, 0.0])
_CONTEXT_RHYTHM = np.array([0.10, 0.18, 0.28, 0.45, 0.0])
_CONTEXT_KURTOSIS = np.array([5.0, 9.0, 6.0, 4.0, 0.0])
_CONTEXT_AXIS = np.array([0.0, 0.55, 0.4, 0.6, 0.0])
_CLASS_AXIS = np.array([0.7, 0.75, 0.15, 0.0, 0.35, 0.4, 0.5, 0.4])
# Share of minutes spent moving about (walking around the house, to a meeting) per context.
_MOVING_SHARE = np.array([0.0, 0.03, 0.10, 0.45, 0.0])
_MOVING_THRESHOLD = np.where(_MOVING_SHARE > 0, norm.isf(np.clip(_MOVING_SHARE, 1e-12, None)), np.inf)


def physiology(traits: dict, schedule: dict, minute_of_day: np.ndarray, rng: np.random.Generator):
    """Simulate the 26 channels for one participant.

    Parameters
    ----------
    traits : dict
        The participant's traits, from :func:`sample_traits`.
    schedule : dict
        The participant's schedule, from :func:`daily_schedule`.
    minute_of_day : numpy.ndarray
        Local minute of the day (0 to 1439) of every minute, length ``T``.
    rng : numpy.random.Generator
        The participant's random generator.

    Returns
    -------
    truth, observed : numpy.ndarray
        Arrays of shape ``(T, 26)``. ``truth`` is what a well-worn device would have reported
        every minute; ``observed`` is the same with the device's gaps (off-wrist, PPG dropouts in
        motion, EDA contact loss) as NaN.
    """
    T = len(minute_of_day)
    ctx, act, duty = schedule["context"], schedule["activity"].astype(int), schedule["duty"]
    sleep, stress, terrain = schedule["sleep"], schedule["stress"], schedule["terrain"]
    exercising = act > 0
    k = np.clip(act - 1, 0, None)  # exercise class index, valid where exercising
    noise = traits["noise"]
    hour = minute_of_day / 60.0
    out = {}

    # Intensity in METs. Outside exercise, people move in short bouts (a few minutes at a time):
    # a smooth latent crossing a per-context threshold gives bouts of realistic length and share.
    moving = _ar1(rng, T, 3.0, 1.0) > _MOVING_THRESHOLD[ctx]
    session = np.exp(rng.normal(0, 0.08, T).cumsum() * 0.05)  # slow drift of effort within sessions
    mets = np.where(exercising, 1.5 + (_CLASS["mets"][k] * session - 1.5) * duty, _CONTEXT_METS[ctx])
    mets = np.where(moving, 3.0, mets) + 3.0 * terrain

    # Heart rate: HR reserve tracks VO2 reserve (Swain), fast on-kinetics, slower off-kinetics,
    # a slow post-exercise elevation, a circadian dip in sleep, and a stress response.
    reserve = np.clip((mets - 1.0) / (traits["vo2max"] - 1.0), 0.0, 1.0)
    target = traits["resting_hr"] + (traits["max_hr"] - traits["resting_hr"]) * reserve
    target = target - sleep * (5.0 + 3.0 * np.cos(2 * np.pi * (hour - 4.0) / 24)) + 10.0 * stress
    target = target + _ar1(rng, T, 8.0, 2.5)
    hr = np.maximum(_smooth(target, 0.7), _smooth(target, 2.5)) + 10.0 * _smooth(reserve, 40.0)
    hr = np.clip(hr, 35.0, traits["max_hr"] + 5)
    out["heart_rate"] = hr + rng.normal(0, 1.0 * noise, T)
    day = np.arange(T) // MINUTES_PER_DAY
    out["resting_heart_rate"] = np.round(traits["resting_hr"] + rng.normal(0, 1.2, day.max() + 1))[day]

    # Accelerometer features from activity energy and rhythm.
    energy = np.where(exercising, _CLASS["energy"][k] * duty + (-3.6) * (1 - duty), _CONTEXT_ENERGY[ctx])
    energy = np.where(moving, -2.0, energy) + 0.4 * terrain
    twitch = sleep & (rng.random(T) < 0.06)  # brief movements in sleep
    energy = energy + 3.0 * twitch + rng.normal(0, 0.45 * noise, T)
    rhythm = np.where(exercising, _CLASS["rhythm"][k], _CONTEXT_RHYTHM[ctx])
    rhythm = np.clip(np.where(moving, 0.6, rhythm) + rng.normal(0, 0.05, T), 0.0, 1.0)
    cadence = np.where(exercising, _CLASS["cadence"][k] * duty * session, 0.0)
    cadence = np.where(moving, np.where(ctx == COMMUTE, rng.uniform(85, 115, T), rng.uniform(30, 100, T)), cadence)
    cadence = cadence + 70.0 * (terrain & ~exercising)
    steps = rng.poisson(np.clip(cadence, 0, None) + 0.3 * (ctx == SEDENTARY) + 1.5 * (ctx == LIGHT))
    steps = np.where(sleep, 0, steps)
    crossings = 3.0 + 1.6 * steps + 25.0 * np.exp(np.clip(energy + 2.0, -8, 3))  # per minute
    zc_mean = 60.0 / crossings
    out.update(
        steps=steps.astype(float),
        jerk_autocorrelation_ratio=rhythm,
        log_energy=energy,
        covariance_condition_number=np.clip(0.7 + 1.8 * rhythm + 0.08 * (energy + 7) + rng.normal(0, 0.15, T), 0, 8),
        log_energy_ratio=0.35 * (energy + 3.0) + 0.8 * (rhythm - 0.3) + rng.normal(0, 0.25, T),
        zero_crossing_std=zc_mean * np.clip(1.15 - rhythm + rng.normal(0, 0.08, T), 0.05, None),
        zero_crossing_mean=zc_mean * np.exp(rng.normal(0, 0.1, T)),
        axis_mean=np.clip(
            np.where(exercising, _CLASS_AXIS[k], _CONTEXT_AXIS[ctx])
            + sleep * np.clip(_ar1(rng, T, 60.0, 0.5), -0.9, 0.9)
            + rng.normal(0, 0.08, T), -1.2, 1.2),
        kurtosis=np.where(exercising, 2.0 + 6.0 * (1 - rhythm) ** 2, _CONTEXT_KURTOSIS[ctx]) * np.exp(rng.normal(0, 0.25, T)),
        sleep_coefficient=np.clip(100.0 / (1.0 + np.exp(-1.4 * (energy + 4.6))) + rng.normal(0, 3, T), 0, 100),
    )

    # Beat intervals: HRV shrinks as HR rises, is higher in sleep and lower under stress.
    mu = 60000.0 / hr
    sigma = rr_sigma(mu, traits["hrv_sigma"], 60000.0 / traits["resting_hr"]) * (1 + 0.2 * sleep) * (1 - 0.25 * stress)
    rho = 0.55 + 0.3 * reserve
    out.update(sample_rr_statistics(mu, sigma, rho, rng.standard_normal((5, T))))
    motion = np.clip((energy + 5.0) / 6.0, 0.0, 1.0)  # 0 still .. 1 vigorous
    valid = np.clip(0.97 - 0.65 * motion + rng.normal(0, 0.05 * noise, T), 0.0, 1.0)
    out["rr_percent_valid"] = 100.0 * valid

    # EDA: tonic level (circadian, sweating in exercise, arousal in stress) plus phasic responses.
    sweat = _smooth(np.clip(mets - 4.0, 0, None) / 5.0, 10.0)
    arousal = _smooth(stress.astype(float), 6.0)
    rate = np.where(sleep, 0.05, 0.4) + 2.5 * stress + 1.5 * exercising
    phasic = _smooth(rng.poisson(rate) * rng.exponential(0.08, T), 1.5)
    scl = traits["scl_base"] * (1 + 0.1 * np.cos(2 * np.pi * (hour - 15) / 24) + 1.2 * sweat + 0.7 * arousal) + phasic
    scl = np.clip(scl + rng.normal(0, 0.02 * noise, T), 0.01, 100)
    out["scl"] = scl
    out["scl_slope"] = np.diff(scl, prepend=scl[0])
    out["eda_lead_contact"] = np.clip(np.round(57 + rng.normal(0, 2, T) - 15 * motion), 0, 60)

    # Skin temperature: circadian (peak at night), warms in sleep, cools in exercise and outdoors.
    temp = (traits["temp_base"] + 0.4 * np.cos(2 * np.pi * (hour - 3.0) / 24) + 1.4 * _smooth(sleep.astype(float), 40.0)
            - 1.3 * _smooth(exercising * duty, 12.0) - 0.6 * _smooth((ctx == COMMUTE).astype(float), 10.0)
            + _ar1(rng, T, 20.0, 0.2))
    out["skin_temperature"] = temp + rng.normal(0, 0.03 * noise, T)
    out["skin_temperature_slope"] = np.diff(out["skin_temperature"], prepend=out["skin_temperature"][0])

    # Altimeter: sensor noise, and real height changes on stairs and hills.
    out["altitude_std"] = 0.12 * noise * np.exp(rng.normal(0, 0.35, T)) + terrain * rng.lognormal(np.log(1.6), 0.4, T)

    truth = np.empty((len(CHANNEL_NAMES), T), dtype=np.float32)
    for i, name in enumerate(CHANNEL_NAMES):  # contiguous rows are the cheap way to fill it
        truth[i] = out[name]
    truth = truth.T  # (C, T) -> (T, C), a view
    observed = truth.copy()
    # Gaps the device makes: motion defeats PPG (HRV first, then heart rate), contact loss for EDA.
    heart = [CHANNEL_NAMES.index(n) for n in CHANNEL_NAMES[:10] if n not in ("resting_heart_rate",)]
    hrv = [CHANNEL_NAMES.index(n) for n in ("rr_p80", "rr_p20", "rr_median", "rmssd", "sdnn", "rr_entropy", "rr_diff_entropy")]
    dropout = (valid < 0.45 + 0.08 * rng.standard_normal(T)) | (rng.random(T) < 0.01 * noise)
    observed[np.ix_(dropout, hrv)] = np.nan
    observed[np.ix_(valid < 0.25, heart)] = np.nan
    contact_loss = _episodes(rng, T, start_rate=np.where(sleep, 0.006, 0.002), mean_minutes=25)
    eda = [CHANNEL_NAMES.index(n) for n in ("scl", "scl_slope")]
    observed[np.ix_(contact_loss, eda)] = np.nan
    observed[np.flatnonzero(contact_loss), CHANNEL_NAMES.index("eda_lead_contact")] = rng.integers(0, 15, contact_loss.sum())
    truth[np.flatnonzero(contact_loss), CHANNEL_NAMES.index("eda_lead_contact")] = observed[contact_loss, CHANNEL_NAMES.index("eda_lead_contact")]
    observed[schedule["off_wrist"]] = np.nan
    return truth, observed


def _episodes(rng, T: int, start_rate, mean_minutes: float) -> np.ndarray:
    """Boolean mask of episodes that start with per-minute probability ``start_rate``."""
    starts = np.flatnonzero(rng.random(T) < start_rate)
    mask = np.zeros(T, dtype=bool)
    for s, length in zip(starts, rng.geometric(1.0 / mean_minutes, len(starts))):
        mask[s : s + length] = True
    return mask


# --------------------------------------------------------------------------------------------
# The cohort
# --------------------------------------------------------------------------------------------
_TRAIT_VARS = {
    "age": ("years", "age"),
    "resting_hr": ("bpm", "true resting heart rate"),
    "max_hr": ("bpm", "maximum heart rate (Tanaka)"),
    "vo2max": ("MET", "aerobic capacity"),
    "fitness": ("1", "fitness z-score within age and sex"),
    "chronotype": ("h", "habitual mid-sleep hour"),
    "noise": ("1", "sensor noise scale"),
}


def simulate(
    n_participants: int = 8,
    days: int = 7,
    seed: int | np.random.SeedSequence = 0,
    *,
    start: str = "2024-01-01",
    timezone: str = "UTC",
    stress: bool = True,
    terrain: bool = True,
) -> xr.Dataset:
    """Simulate a cohort of continuous per-minute wearable recordings.

    Parameters
    ----------
    n_participants : int, default 8
        Number of participants. Each draws from its own child of ``seed``, so the first ``k``
        participants of a cohort do not depend on how many more are simulated.
    days : int, default 7
        Whole days per participant, starting at local midnight of ``start``.
    seed : int or numpy.random.SeedSequence, default 0
        Integer seed or ``numpy.random.SeedSequence``; the same seed gives the same cohort.
    start : str, default "2024-01-01"
        Local date of the first day.
    timezone : str, default "UTC"
        IANA zone of the participants' local time (``start`` coordinates are stored in UTC).
    stress, terrain : bool, default True
        Whether the days include stress episodes and stairs/hills. Switching one off changes
        nothing else: the same seed gives the same days without those episodes.

    Returns
    -------
    xarray.Dataset
        Recordings (see :mod:`lsmkit.data`): ``signal`` with device gaps as NaN, ``truth`` with the
        values behind them, per-minute labels ``activity`` (:data:`lsmkit.labels.ACTIVITIES`),
        ``sleep``, ``stress`` and ``terrain`` (stairs or hills), and per-participant ``age``,
        ``sex``, ``resting_hr``, ``max_hr``, ``vo2max``, ``fitness``, ``chronotype``, ``noise``.

    Raises
    ------
    ValueError
        If ``n_participants`` or ``days`` is not a positive integer, or ``start`` is not a date
        (local midnight).

    Examples
    --------
    >>> recordings = lsmkit.simulate(n_participants=4, days=3, seed=1)
    >>> recordings.sizes["time"]
    4320
    """
    if int(n_participants) != n_participants or n_participants < 1:
        raise ValueError(f"n_participants must be a positive integer, got {n_participants!r}")
    if int(days) != days or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    n_participants, days = int(n_participants), int(days)
    local_start = pd.Timestamp(start)
    if local_start != local_start.normalize():
        raise ValueError(f"start must be a date (local midnight), got {start!r}")
    utc_start = local_start.tz_localize(timezone).tz_convert("UTC")
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)

    T = days * MINUTES_PER_DAY
    minute_of_day = np.arange(T) % MINUTES_PER_DAY
    signal = np.empty((n_participants, T, len(CHANNEL_NAMES)), dtype=np.float32)
    truth = np.empty_like(signal)
    labels = {name: np.empty((n_participants, T), dtype=dtype) for name, dtype in
              (("activity", np.int8), ("sleep", bool), ("stress", bool), ("terrain", bool))}
    traits = []
    for p, child in enumerate(seq.spawn(n_participants)):
        rng = np.random.default_rng(child)
        trait = sample_traits(rng)
        schedule = daily_schedule(trait, days, local_start.weekday(), rng)
        schedule["stress"] &= stress
        schedule["terrain"] &= terrain
        truth[p], signal[p] = physiology(trait, schedule, minute_of_day, rng)
        for name in labels:
            labels[name][p] = schedule[name]
        traits.append(trait)

    per_participant = {
        name: ("participant", np.array([t[name] for t in traits], dtype=np.float32), {"units": units, "long_name": long})
        for name, (units, long) in _TRAIT_VARS.items()
    }
    sex_codes, sex_attrs = categorical([t["sex"] for t in traits], SEXES)
    activity, activity_attrs = categorical(labels["activity"], ACTIVITIES)
    ds = make_recordings(
        signal,
        participant=[f"P{p:03d}" for p in range(n_participants)],
        start=[utc_start] * n_participants,
        timezone=timezone,
        truth=(("participant", "time", "channel"), truth, {"long_name": "values behind the device's gaps"}),
        activity=(("participant", "time"), activity, activity_attrs),
        sleep=(("participant", "time"), labels["sleep"]),
        stress=(("participant", "time"), labels["stress"]),
        terrain=(("participant", "time"), labels["terrain"], {"long_name": "stairs or hills"}),
        sex=("participant", sex_codes, sex_attrs),
        **per_participant,
    )
    ds.attrs.update(source="lsmkit.simulate", seed=str(seed if not isinstance(seed, np.random.SeedSequence) else seed.entropy))
    return ds
