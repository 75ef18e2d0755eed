"""The losses (``core/losses.py``): the Poisson loss and the robust regression losses.

The robust losses (absolute error, Huber and quantile, or pinball): their values and output
deltas against the formulas (at the kinks too), and what the fitted regressors estimate: a
fit that outliers do not pull away, and quantiles that cover the share of the targets they
should. The Poisson loss: its log link, its targets, and training against scikit-learn's MLP
started from the same weights. The whole network's gradient with every loss and link is
checked against finite differences on the reference, to which the fast core is held, in
``test_reference.py``; the squared error and the log-loss are checked against scikit-learn
in ``test_optimizers.py`` (epoch by epoch), ``test_lbfgs.py`` and ``test_targets.py``.
"""

import warnings

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import fit_twins
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    d2_absolute_error_score,
    d2_pinball_score,
    d2_tweedie_score,
    r2_score,
)
from sklearn.utils._param_validation import InvalidParameterError

from sknn_scratch import ScratchMLPRegressor
from sknn_scratch.core import make_loss
from sknn_scratch.core.kernels import NUMPY
from sknn_scratch.core.losses import OUTPUT_ACTIVATIONS

N_SAMPLES, N_FEATURES, N_OUTPUTS = 9, 3, 3
# each robust loss with a parameter that puts residuals on both sides of its kinks
ROBUST = [("absolute_error", None), ("huber", 0.3), ("huber", 1.0), ("quantile", 0.1),
          ("quantile", 0.5), ("quantile", 0.9)]  # fmt: skip


def _per_entry(loss, parameter, y, p):
    """The loss of every entry, written straight from its definition."""
    r = y - p
    if loss == "absolute_error":
        return np.abs(r)
    if loss == "huber":
        delta = parameter
        return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - delta / 2))
    q = parameter
    return np.maximum(q * r, (q - 1) * r)


def _batch(rng, n_samples=N_SAMPLES):
    y = rng.normal(scale=2.0, size=(n_samples, N_OUTPUTS))
    p = rng.normal(scale=2.0, size=(n_samples, N_OUTPUTS))
    return y, p


def loss_value(loss, link, y, logits, p, sample_weight=None, parameter=None):
    return make_loss(loss, link, parameter).value(NUMPY, y, logits, p, sample_weight)


def _delta(loss, parameter, y, p, sample_weight):
    return make_loss(loss, "identity", parameter).output_delta(NUMPY, y, p, sample_weight)


# ---------------------------------------------------------------- the losses themselves


def test_robust_losses_pair_with_the_identity_output_only():
    for loss in ("absolute_error", "huber", "quantile"):
        assert OUTPUT_ACTIVATIONS[loss] == ("identity",)
        with pytest.raises(ValueError, match="cannot be used with"):
            make_loss(loss, "exp")


def test_a_loss_takes_its_parameter_or_its_default():
    assert make_loss("huber", "identity").parameter == 1.0
    assert make_loss("quantile", "identity").parameter == 0.5
    assert make_loss("quantile", "identity", 0.9) == make_loss("quantile", "identity", 0.9)
    assert make_loss("quantile", "identity", 0.9) != make_loss("quantile", "identity", 0.1)
    assert make_loss("absolute_error", "identity").parameter is None
    refused = [("huber", 0.0), ("huber", -1.0), ("quantile", 0.0), ("quantile", 1.0),
               ("quantile", np.nan), ("squared_error", 0.5), ("absolute_error", 1.0)]  # fmt: skip
    for loss, bad in refused:
        with pytest.raises(ValueError, match=loss):
            make_loss(loss, "identity", bad)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("loss, parameter", ROBUST)
def test_loss_values_match_their_formulas(loss, parameter, weighted):
    rng = np.random.RandomState(0)
    y, p = _batch(rng)
    sample_weight = rng.uniform(0.2, 3.0, size=N_SAMPLES) if weighted else None
    expected = np.average(_per_entry(loss, parameter, y, p).mean(axis=1), weights=sample_weight)
    actual = loss_value(loss, "identity", y, p, p.copy(), sample_weight, parameter)
    assert actual == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_reuses_the_softmax_normalizer_to_the_last_bit(dtype):
    """The softmax output hands its row maxima and sums to the log-loss, which then computes
    ``logsumexp(z)`` as ``m + log(s)``: the same numbers as computing it afresh, also for
    logits far beyond ``exp``'s range, and the outputs are the softmax's probabilities."""
    rng = np.random.RandomState(1)
    logits = np.asfortranarray(rng.standard_normal((50, 4)) * [1, 10, 300, 1e4], dtype=dtype)
    Y = np.eye(4, dtype=dtype)[rng.randint(0, 4, size=50)]
    outputs = np.empty_like(logits, order="F")
    z, p, normalizer = NUMPY.output_layer(
        "softmax", np.eye(50, dtype=dtype), logits, np.zeros(4, dtype), logits.copy(), outputs
    )
    loss = make_loss("log_loss", "softmax")
    reused = loss.per_sample(NUMPY, Y, z, p, normalizer)
    afresh = loss.per_sample(NUMPY, Y, z, p)
    assert reused.dtype == dtype and reused.tobytes() == afresh.tobytes()
    expected = logsumexp(z.astype(np.float64), axis=1) - (Y * z).sum(axis=1)
    np.testing.assert_allclose(reused, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_log_loss_of_one_column_is_that_of_numpys_reductions(dtype):
    """A binary target's single column skips NumPy's row reductions (the sum of one value is
    that value): the per-sample losses are bitwise those of the reductions."""
    rng = np.random.RandomState(2)
    z = np.asfortranarray(rng.standard_normal((60, 1)) * [[1e3]], dtype=dtype)
    z[:4, 0] = [0.0, -0.0, 1e-30, -1e-30]
    Y = np.asfortranarray(rng.randint(0, 2, size=(60, 1)), dtype=dtype)
    loss = make_loss("log_loss", "sigmoid")
    ours = loss.per_sample(NUMPY, Y, z, None)
    numpys = np.logaddexp(0, z).sum(axis=1) - np.einsum("ij,ij->i", Y, z)
    assert ours.dtype == dtype and ours.tobytes() == numpys.tobytes()


def test_the_deltas_are_sign_clip_and_step():
    """``sign(p - y)``, ``clip(p - y, -delta, delta)``, ``1[p > y] - q``, over n * n_outputs."""
    rng = np.random.RandomState(2)
    y, p = _batch(rng)
    p[0, 0] = y[0, 0]  # one entry exactly at the kink
    n = y.size
    np.testing.assert_array_equal(_delta("absolute_error", None, y, p, None), np.sign(p - y) / n)
    np.testing.assert_allclose(
        _delta("huber", 0.3, y, p, None), np.clip(p - y, -0.3, 0.3) / n, rtol=1e-15
    )
    step = np.where(p > y, 1.0, np.where(p == y, 0.5, 0.0))  # the middle subgradient at p == y
    np.testing.assert_allclose(_delta("quantile", 0.9, y, p, None), (step - 0.9) / n, rtol=1e-14)
    assert _delta("absolute_error", None, y, p, None)[0, 0] == 0.0
    assert _delta("quantile", 0.9, y, p, None)[0, 0] == pytest.approx((0.5 - 0.9) / n)


@pytest.mark.parametrize("loss, parameter", ROBUST)
def test_sample_weights_scale_each_rows_delta(loss, parameter):
    """Row ``i``'s delta is the unweighted one times ``w_i * n / sum(w)``."""
    rng = np.random.RandomState(6)
    y, p = _batch(rng)
    w = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    expected = _delta(loss, parameter, y, p, None) * (w * N_SAMPLES / w.sum())[:, None]
    np.testing.assert_allclose(_delta(loss, parameter, y, p, w), expected, rtol=1e-13)


def test_the_median_quantile_is_half_the_absolute_error_exactly():
    rng = np.random.RandomState(3)
    y, p = _batch(rng)
    p[1, 2] = y[1, 2]
    w = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    absolute = loss_value("absolute_error", "identity", y, p, p, w)
    assert loss_value("quantile", "identity", y, p, p, w, 0.5) == pytest.approx(absolute / 2)
    np.testing.assert_array_equal(
        _delta("quantile", 0.5, y, p, w), _delta("absolute_error", None, y, p, w) / 2
    )


@pytest.mark.parametrize("loss, parameter", ROBUST)
def test_float32_stays_float32(loss, parameter):
    rng = np.random.RandomState(4)
    y, p = (a.astype(np.float32) for a in _batch(rng))
    assert _delta(loss, parameter, y, p, None).dtype == np.float32
    assert np.isfinite(loss_value(loss, "identity", y, p, p, None, parameter))


# ---------------------------------------------------------------- the estimator


def test_parameters_are_validated_and_reach_the_network():
    X, y = np.random.RandomState(0).normal(size=(20, 2)), np.arange(20.0)
    for bad in [dict(huber_delta=0.0), dict(quantile=0.0), dict(quantile=1.0), dict(loss="l1")]:
        with pytest.raises(InvalidParameterError):
            ScratchMLPRegressor(**bad).fit(X, y)
    reg = ScratchMLPRegressor(loss="huber", huber_delta=0.25, quantile=0.8)
    assert reg.get_params()["huber_delta"] == 0.25 and reg.get_params()["quantile"] == 0.8
    assert reg._network_spec((2, 3, 1)).loss.parameter == 0.25
    assert reg.set_params(loss="quantile")._network_spec((2, 3, 1)).loss.parameter == 0.8
    assert reg.set_params(loss="absolute_error")._network_spec((2, 3, 1)).loss.parameter is None
    fitted = fit_quietly(ScratchMLPRegressor(hidden_size=4, loss="huber", epochs=5), X, y)
    assert fitted.out_activation_ == "identity"


def _regression_data(n_samples, rng):
    X = rng.uniform(-2, 2, size=(n_samples, 2))
    return X, np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]


def _with_outliers(rng):
    """1000 training samples with noise of sd 0.2, of which 5% are replaced by 50 to 100;
    2000 clean test samples."""
    X, f = _regression_data(1000, rng)
    y = f + rng.normal(scale=0.2, size=f.shape)
    outliers = rng.choice(len(y), size=len(y) // 20, replace=False)
    y[outliers] = rng.uniform(50, 100, size=len(outliers))
    X_test, f_test = _regression_data(2000, rng)
    return X, y, X_test, f_test + rng.normal(scale=0.2, size=f_test.shape)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_robust_losses_resist_gross_outliers(solver):
    X, y, X_test, y_test = _with_outliers(np.random.RandomState(0))
    mae = {}
    for loss in ("squared_error", "absolute_error", "huber"):
        reg = ScratchMLPRegressor(
            hidden_size=32, activation="tanh", loss=loss, solver=solver, epochs=300,
            random_state=0,
        )  # fmt: skip
        mae[loss] = float(np.abs(fit_quietly(reg, X, y).predict(X_test) - y_test).mean())
    print(f"{solver}: test MAE", {loss: round(value, 4) for loss, value in mae.items()})
    assert max(mae["absolute_error"], mae["huber"]) < mae["squared_error"]
    # the noise alone gives a test MAE of 0.2 * sqrt(2 / pi) = 0.16; the outliers pull the
    # squared error's fit up by about 5% of their mean, 75
    assert mae["absolute_error"] < 0.2 and mae["huber"] < 0.2
    assert mae["squared_error"] > 2.0


def _heteroscedastic(n_samples, rng):
    X = rng.uniform(-2, 2, size=(n_samples, 1))
    scale = 0.2 + 0.3 * np.abs(X[:, 0])
    return X, np.sin(2 * X[:, 0]) + scale * rng.normal(size=n_samples)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize(
    "solver, params",
    [("lbfgs", {}), ("adam", dict(learning_rate=0.002, tol=1e-6, n_iter_no_change=20)),
     ("adam", dict(learning_rate=0.002, tol=1e-6, n_iter_no_change=20, early_stopping=True))],
    ids=["lbfgs", "adam", "adam-early-stopping"],
)  # fmt: skip
def test_quantile_predictions_cover_their_share_of_the_targets(solver, params, q):
    rng = np.random.RandomState(0)
    X, y = _heteroscedastic(2000, rng)
    X_test, y_test = _heteroscedastic(5000, rng)
    reg = ScratchMLPRegressor(
        hidden_size=32, activation="tanh", loss="quantile", quantile=q, solver=solver,
        epochs=300, random_state=0, **params,
    )  # fmt: skip
    coverage = np.mean(y_test <= fit_quietly(reg, X, y).predict(X_test))
    print(f"{solver} {params} q={q}: coverage {coverage:.4f}")
    assert abs(coverage - q) < 0.03


def test_early_stopping_scores_the_robust_losses_by_d2():
    rng = np.random.RandomState(5)
    y, p = rng.normal(size=50), rng.normal(size=50)
    w = rng.uniform(0.5, 2.0, size=50)
    scores = {
        loss: ScratchMLPRegressor(loss=loss, quantile=0.8)._score_outputs(y, p[:, None], w)
        for loss in ("squared_error", "absolute_error", "huber", "quantile")
    }
    assert scores["squared_error"] == r2_score(y, p, sample_weight=w)
    assert scores["absolute_error"] == d2_absolute_error_score(y, p, sample_weight=w)
    assert scores["huber"] == scores["absolute_error"]
    assert scores["quantile"] == d2_pinball_score(y, p, sample_weight=w, alpha=0.8)


# ---------------------------------------------------------------- the Poisson loss


@pytest.fixture(scope="module")
def counts():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 3))
    rate = np.exp(0.5 + X[:, 0] - 0.8 * X[:, 1] ** 2)
    return X, rng.poisson(rate).astype(float)


def test_poisson_uses_a_log_link_and_fits_counts(counts):
    X, y = counts
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="tanh", loss="poisson", solver="lbfgs", random_state=0
    )
    fit_quietly(reg, X, y)
    assert reg.out_activation_ == "exp"
    prediction = reg.predict(X)
    (W1, W2), (b1, b2) = reg.coefs_, reg.intercepts_  # the forward pass, written out
    np.testing.assert_allclose(prediction, np.exp(np.tanh(X @ W1 + b1) @ W2 + b2).ravel(),
                               rtol=1e-12)  # fmt: skip
    assert d2_tweedie_score(y, prediction, power=1) > 0.25
    # the log link keeps every prediction positive, even far outside the training data
    far = reg.predict(np.array([[50.0, -50.0, 50.0], [-1e3, 1e3, -1e3]]))
    assert np.all(far > 0) and np.all(np.isfinite(far))


def test_poisson_training_matches_sklearn(counts):
    X, y = counts
    reg = ScratchMLPRegressor(
        hidden_size=6, loss="poisson", solver="sgd", learning_rate=0.01, batch_size=40,
        shuffle=False, epochs=15, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(reg, X, y)
    assert scale == 1.0
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9)


def test_poisson_accepts_zero_counts_but_not_negative_or_all_zero_targets(counts):
    X, y = counts
    assert np.any(y == 0)
    fit_quietly(ScratchMLPRegressor(hidden_size=3, loss="poisson", epochs=2), X, y)
    for bad in (y - 1, np.zeros(len(y))):
        with pytest.raises(ValueError, match="loss='poisson' needs non-negative targets"):
            ScratchMLPRegressor(loss="poisson").fit(X, bad)
