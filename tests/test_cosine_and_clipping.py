"""Learning-rate schedules for Adam too, the cosine schedule with warm-up, gradient clipping."""

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError
from sknn_scratch.core.optimizers import (
    LearningRateSchedule,
    ScheduleStep,
    clip_by_global_norm,
)


def _cosine_reference(epoch, epochs, warmup):
    """The cosine schedule written out independently, as a factor of the initial rate."""
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (epoch - warmup) / (epochs - warmup))))


@pytest.mark.parametrize("warmup", [0, 1, 3])
def test_cosine_schedule_warms_up_then_decays_to_zero(warmup):
    schedule = LearningRateSchedule(0.1, kind="cosine", epochs=10, warmup_epochs=warmup)
    rates = [schedule(ScheduleStep(epoch)) for epoch in range(12)]
    expected = [0.1 * _cosine_reference(e, 10, warmup) for e in range(12)]
    np.testing.assert_allclose(rates, expected, rtol=1e-15)
    assert rates[warmup] == pytest.approx(0.1)  # the peak, right after the warm-up
    assert rates[9] > 0 and rates[10] == rates[11] == pytest.approx(0.0, abs=1e-18)
    if warmup:
        assert rates[:warmup] == sorted(rates[:warmup]) and rates[0] < 0.1


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_calls_follow_the_cosine_schedule(solver, diabetes):
    X, y = diabetes  # standardised features and target (conftest.py)
    reg = ScratchMLPRegressor(
        hidden_size=5, solver=solver, learning_rate=0.01, learning_rate_schedule="cosine",
        epochs=6, warmup_epochs=2, random_state=0,
    )  # fmt: skip
    after_each_call = []
    for _ in range(8):
        reg.partial_fit(X, y)
        after_each_call.append(reg._optimizer.learning_rate)  # the rate of the next epoch
    expected = [0.01 * _cosine_reference(e, 6, 2) for e in range(1, 9)]
    np.testing.assert_allclose(after_each_call, expected, rtol=1e-12, atol=1e-18)


def test_adam_follows_invscaling_now(diabetes):
    X, y = diabetes  # standardised features and target (conftest.py)
    params = dict(hidden_size=5, solver="adam", epochs=4, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scaled = ScratchMLPRegressor(learning_rate_schedule="invscaling", power_t=0.5, **params)
        constant = ScratchMLPRegressor(**params)
        scaled.fit(X, y)
        constant.fit(X, y)
    assert scaled._optimizer.learning_rate == pytest.approx(0.01 / (4 * len(y) + 1) ** 0.5)
    assert constant._optimizer.learning_rate == 0.01
    assert scaled.loss_curve_[0] == constant.loss_curve_[0]  # the first epoch runs at 0.01
    assert scaled.loss_curve_[-1] != constant.loss_curve_[-1]


def test_a_warm_started_fit_runs_its_own_cosine(diabetes):
    X, y = diabetes  # standardised features and target (conftest.py)
    reg = ScratchMLPRegressor(
        hidden_size=5, learning_rate_schedule="cosine", epochs=5, tol=0.0, warm_start=True,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
        assert reg._optimizer.learning_rate == pytest.approx(0.0, abs=1e-18)
        reg.fit(X, y)  # a new cosine over its own 5 epochs, not a rate of zero
    assert reg.n_iter_ == 5 and len(reg.loss_curve_) == 10
    assert reg.loss_curve_[5] < reg.loss_curve_[4]


# ------------------------------------------------------------------ clipping


def test_clip_by_global_norm_limits_the_length_and_keeps_the_direction():
    rng = np.random.RandomState(0)
    grad = rng.normal(size=1000) * 10
    original = grad.copy()
    clip_by_global_norm(grad, 1.0)
    assert np.linalg.norm(grad) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(grad / np.linalg.norm(grad), original / np.linalg.norm(original))
    small = rng.normal(size=10) * 1e-3
    untouched = small.copy()
    clip_by_global_norm(small, 1.0)
    assert np.array_equal(small, untouched)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_by_global_norm_handles_overflowing_squares(dtype):
    big = np.finfo(dtype).max / 10
    grad = np.array([big, -big, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clip_by_global_norm(grad, 2.0)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad[:2], [math.sqrt(2), -math.sqrt(2)], rtol=1e-6)


def test_clipping_keeps_a_run_stable_where_the_unclipped_one_diverges():
    # unscaled targets in the hundreds: the first gradients are huge
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(
        hidden_size=20, activation="relu", solver="sgd", learning_rate=0.05, epochs=100,
        random_state=0,
    )  # fmt: skip
    with pytest.raises(TrainingDivergedError):
        ScratchMLPRegressor(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clipped = ScratchMLPRegressor(max_grad_norm=1.0, **params).fit(X, y)
    assert np.isfinite(clipped.loss_curve_).all()
    assert clipped.score(X, y) > 0.4


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_every_update_sees_a_clipped_gradient(solver, monkeypatch):
    from sknn_scratch.core import optimizers

    norms = []
    cls = optimizers.SGD if solver == "sgd" else optimizers.Adam
    original = cls.step

    def recording_step(self, params, grad):
        norms.append(float(np.linalg.norm(grad)))
        return original(self, params, grad)

    monkeypatch.setattr(cls, "step", recording_step)
    X, y = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ScratchMLPRegressor(
            hidden_size=5, solver=solver, max_grad_norm=0.5, epochs=3, random_state=0
        ).fit(StandardScaler().fit_transform(X), y)
    assert norms and max(norms) <= 0.5 * (1 + 1e-12)
    assert max(norms) > 0.49  # unscaled targets: the clip was reached


def test_clipping_is_off_by_default_and_changes_nothing_when_never_reached(diabetes):
    X, y = diabetes  # standardised features and target (conftest.py)
    params = dict(hidden_size=5, solver="sgd", epochs=3, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = ScratchMLPRegressor(**params).fit(X, y)
        loose = ScratchMLPRegressor(max_grad_norm=1e6, **params).fit(X, y)
    assert plain.max_grad_norm is None
    assert plain.loss_curve_ == loose.loss_curve_


@pytest.mark.parametrize(
    "name, value", [("max_grad_norm", 0.0), ("max_grad_norm", -1.0), ("warmup_epochs", -1)]
)
def test_invalid_new_parameters_are_refused(name, value):
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        ScratchMLPClassifier(**{name: value}).fit(X, y > 140)
