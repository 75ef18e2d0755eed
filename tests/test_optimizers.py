"""The optimizers (``core/optimizers.py``): SGD, Adam, the learning-rate schedules, clipping.

SGD (plain, with momentum, with Nesterov's momentum) and Adam, under every schedule
scikit-learn has (constant, invscaling, adaptive), are trained twice from the same weights
and random state: by us, and by scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` (see
``_sklearn_twin``). Same semantics means the same loss at every epoch, the same stopping epoch
and the same final weights; the runs use ``shuffle=False`` (the first shuffled epoch is
compared in ``test_training.py``). The schedules scikit-learn lacks (the cosine with warm-up,
invscaling for Adam) are compared with their formulas written out, and gradient clipping
with its definition.
"""

import math
import warnings

import numpy as np
import pytest
from _sklearn_twin import fit_twins, max_weight_diff
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError
from sknn_scratch.core.optimizers import (
    LearningRateSchedule,
    ScheduleStep,
    clip_by_global_norm,
)

STOCHASTIC_CONFIGS = {
    "sgd-constant-nesterov": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=True, batch_size=32
    ),
    "sgd-constant-plain-momentum": dict(
        solver="sgd", momentum=0.5, nesterovs_momentum=False, batch_size=40, shuffle=False
    ),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate_schedule="invscaling", power_t=0.25, learning_rate=0.5,
        batch_size=25,
    ),
    "sgd-adaptive": dict(
        solver="sgd", learning_rate_schedule="adaptive", momentum=0.0, tol=1e-3,
        n_iter_no_change=2, learning_rate=0.2, epochs=300,
    ),
    "sgd-full-batch": dict(solver="sgd", batch_size=None, momentum=0.0, learning_rate=0.5),
    "adam-auto-batch": dict(solver="adam", learning_rate=0.01, tol=1e-3, n_iter_no_change=3),
    "adam-betas": dict(solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6, batch_size=16),
}  # fmt: skip


# ------------------------------------------------ SGD and Adam, against scikit-learn


@pytest.mark.parametrize("config", STOCHASTIC_CONFIGS.values(), ids=STOCHASTIC_CONFIGS.keys())
def test_classifier_matches_sklearn_epoch_by_epoch(iris, config):
    X, y = iris
    params = dict(
        hidden_size=(6, 4), activation="tanh", alpha=1e-3, epochs=60, random_state=3,
        learning_rate=0.05, shuffle=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(ScratchMLPClassifier(**{**params, **config}), X, y)

    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, scale * np.asarray(sk.loss_curve_), rtol=1e-9)
    assert max_weight_diff(ours, sk) < 1e-9
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-10)
    if ours.solver == "sgd":
        assert ours._optimizer.learning_rate == pytest.approx(sk._optimizer.learning_rate)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_regressor_matches_sklearn_epoch_by_epoch(diabetes, solver):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=8, activation="relu", solver=solver, learning_rate=0.01, batch_size=64,
        alpha=1e-2, epochs=40, random_state=0, shuffle=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(reg, X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, scale * np.asarray(sk.loss_curve_), rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9, atol=1e-9)


def test_adaptive_schedule_divides_by_five_until_tiny(iris):
    X, y = iris
    config = STOCHASTIC_CONFIGS["sgd-adaptive"]
    clf = ScratchMLPClassifier(hidden_size=(6, 4), activation="tanh", random_state=3, **config)
    clf.fit(X, y)
    final_rate = clf._optimizer.learning_rate
    divisions = np.log(config["learning_rate"] / final_rate) / np.log(5)
    # training stopped (before the epoch cap) only once the rate fell to 1e-6 or below
    assert clf.n_iter_ < config["epochs"]
    assert divisions == pytest.approx(round(divisions)) and divisions >= 1
    assert final_rate <= 1e-6 < final_rate * 5


# ------------------------------------------------ the cosine schedule, invscaling for Adam


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
