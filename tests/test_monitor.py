"""LayerMonitor and LayerMonitorDisplay: each layer's statistics after every epoch.

Every number the monitor records is recomputed here from the weights after that epoch (a fit
of as many epochs with the same ``random_state`` has them) with the reference math
(``core.reference``), on the probe rows the monitor documents; dead and saturated units are
provoked by pushing biases and weights; the monitor works inside a grid search, with one
process or two, and with every solver; an estimator without callbacks never builds the bridge.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.callback import ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.utils import check_random_state

from sknn_scratch import LayerMonitor, ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch._base import BaseScratchMLP
from sknn_scratch._callbacks import EpochCallbacks
from sknn_scratch._monitor import PROBE_SEED, PROBE_SIZE
from sknn_scratch.core import initialize_parameters, reference

STATISTICS = [
    "activation_mean",
    "activation_std",
    "saturated_fraction",
    "dead_fraction",
    "weight_norm",
    "gradient_std",
    "update_ratio",
]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _fit(model, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def _rows(monitor, select="most_recent"):
    return monitor.get_logs(select).data


def _statistics(rows) -> list:
    """The rows without their place in the task tree (which differs from run to run)."""
    return [{k: row[k] for k in ["epoch", "layer", *STATISTICS]} for row in rows]


def _by_epoch(rows) -> dict:
    """``{epoch: [row of layer 0, row of layer 1, ...]}``."""
    epochs = {}
    for row in rows:
        epochs.setdefault(row["epoch"], []).append(row)
    return {e: sorted(layers, key=lambda r: r["layer"]) for e, layers in epochs.items()}


def _probe_rows(n_samples):
    """The training rows the monitor documents: at most PROBE_SIZE, drawn with PROBE_SEED."""
    if n_samples <= PROBE_SIZE:
        return np.arange(n_samples)
    rng = np.random.RandomState(PROBE_SEED)
    return np.sort(rng.choice(n_samples, PROBE_SIZE, replace=False))


def _targets(model, y):
    if isinstance(model, ScratchMLPRegressor):
        return y.reshape(len(y), -1).astype(float)
    return (y[:, None] == model.classes_).astype(float)  # one-hot, multiclass


def _reference_spec(model):
    if isinstance(model, ScratchMLPRegressor):
        return reference.Spec(model.activation, "squared_error", "identity", alpha=model.alpha)
    return reference.Spec(model.activation, "log_loss", "softmax", alpha=model.alpha)


def _starting_coefs(model):
    """The weights a new fit of ``model`` starts from, drawn as fit draws them."""
    layer_sizes = [model.coefs_[0].shape[0]] + [c.shape[1] for c in model.coefs_]
    rng = check_random_state(model.random_state)
    params = initialize_parameters(layer_sizes, model.init, rng, model.activation)
    return [c.astype(model.coefs_[0].dtype) for c in params.coefs]


def _expected_rows(model, coefs, intercepts, X_probe, X_train, Y_train, coefs_before=None):
    """The monitor's statistics, computed from scratch with the reference math."""
    spec = _reference_spec(model)
    network = {"W": list(coefs), "b": list(intercepts)}
    _, cache = reference.forward_propagation(network, X_probe, spec)
    _, train_cache = reference.forward_propagation(network, X_train, spec)
    gradients = reference.backward_propagation(network, train_cache, X_train, Y_train, spec)
    n_layers = len(coefs)
    expected = []
    for layer in range(n_layers):
        a = cache["a"][layer]
        name = spec.link if layer == n_layers - 1 else spec.activation
        if name in ("sigmoid", "softmax"):
            saturated = np.mean((a < 0.01) | (a > 0.99))
        elif name == "tanh":
            saturated = np.mean(np.abs(a) > 0.99)
        else:
            saturated = np.nan
        dead = np.mean((a == 0).all(axis=0)) if name == "relu" else np.nan
        W = coefs[layer]
        if coefs_before is None:
            update = np.nan
        else:
            W0 = coefs_before[layer]
            update = np.log10(np.std(W - W0) / np.std(W0))
        expected.append(
            {
                "activation_mean": a.mean(),
                "activation_std": a.std(),
                "saturated_fraction": saturated,
                "dead_fraction": dead,
                "weight_norm": np.sqrt(np.sum(W**2)),
                "gradient_std": np.std(gradients["dW"][layer]),
                "update_ratio": update,
            }
        )
    return expected


def _assert_rows_equal(rows, expected):
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        for name in STATISTICS:
            np.testing.assert_allclose(
                row[name], want[name], rtol=1e-12, atol=1e-12, err_msg=f"layer {row['layer']}"
            )


CASES = {
    "relu classifier, adam": (
        ScratchMLPClassifier,
        dict(activation="relu", solver="adam", learning_rate=0.01),
    ),
    "sigmoid classifier, sgd": (
        ScratchMLPClassifier,
        dict(activation="sigmoid", solver="sgd", learning_rate=0.5, momentum=0.9),
    ),
    "tanh regressor, sgd": (
        ScratchMLPRegressor,
        dict(activation="tanh", solver="sgd", learning_rate=0.05, batch_size=64),
    ),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rows_are_the_statistics_of_the_network_after_each_epoch(digits, case):
    X, y = digits
    Estimator, params = CASES[case]
    if Estimator is ScratchMLPRegressor:
        y = X[:, 10] + X[:, 20] - X[:, 30]
    params = dict(params, hidden_size=(12, 8), tol=0.0, random_state=0)
    monitor = LayerMonitor()
    watched = _fit(Estimator(**params, epochs=3).set_callbacks(monitor), X, y)
    # a fit of e epochs ends with the weights the 3-epoch fit had after its e-th epoch
    after = {e: _fit(Estimator(**params, epochs=e), X, y) for e in (1, 2)}
    after[3] = watched

    probe = _probe_rows(len(X))
    X_probe, Y_probe = X[probe], _targets(watched, y[probe])
    by_epoch = _by_epoch(_rows(monitor))
    assert sorted(by_epoch) == [1, 2, 3]
    for epoch, model in after.items():
        before = _starting_coefs(model) if epoch == 1 else after[epoch - 1].coefs_
        expected = _expected_rows(
            model, model.coefs_, model.intercepts_, X_probe, X_probe, Y_probe, before
        )
        _assert_rows_equal(by_epoch[epoch], expected)
    assert all(np.isfinite(row["update_ratio"]) for row in by_epoch[1])


def test_the_first_epoch_of_a_new_network_is_measured_against_its_starting_weights(
    digits, monkeypatch
):
    X, y = digits
    captured = {}
    starting_parameters = BaseScratchMLP._starting_parameters

    def capture(self, *args, **kwargs):
        params = starting_parameters(self, *args, **kwargs)
        captured.update(coefs=[c.copy() for c in params.coefs])
        return params

    monkeypatch.setattr(BaseScratchMLP, "_starting_parameters", capture)
    monitor = LayerMonitor()
    clf = ScratchMLPClassifier(hidden_size=(12, 8), epochs=1, random_state=0)
    _fit(clf.set_callbacks(monitor), X, y)
    probe = _probe_rows(len(X))
    expected = _expected_rows(
        clf, clf.coefs_, clf.intercepts_, X[probe], X[probe], _targets(clf, y[probe]),
        captured["coefs"],
    )  # fmt: skip
    _assert_rows_equal(_rows(monitor), expected)
    assert all(np.isfinite(row["update_ratio"]) for row in _rows(monitor))


def test_a_continued_fit_has_an_update_ratio_from_its_first_epoch(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=8, activation="relu", random_state=0)
    classes = np.unique(y)
    clf.partial_fit(X, y, classes=classes)
    before = [c.copy() for c in clf.coefs_]
    monitor = LayerMonitor()
    clf.set_callbacks(monitor).partial_fit(X, y)
    probe = _probe_rows(len(X))
    expected = _expected_rows(
        clf, clf.coefs_, clf.intercepts_, X[probe], X[probe], _targets(clf, y[probe]), before
    )
    _assert_rows_equal(_rows(monitor), expected)
    clf.partial_fit(X, y)  # one run per call
    assert len(monitor.get_logs("all")) == 2


def test_activations_are_measured_on_the_monitors_own_rows(digits):
    X, y = digits
    X_watch = X[::37]
    monitor = LayerMonitor(X=X_watch)
    clf = _fit(
        ScratchMLPClassifier(hidden_size=8, epochs=1, random_state=0).set_callbacks(monitor),
        X,
        y,
    )
    probe = _probe_rows(len(X))  # the gradient still needs targets: the training rows
    expected = _expected_rows(
        clf, clf.coefs_, clf.intercepts_, X_watch, X[probe], _targets(clf, y[probe]),
        _starting_coefs(clf),
    )  # fmt: skip
    _assert_rows_equal(_rows(monitor), expected)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_one_row_per_epoch_and_layer(digits, solver, Estimator):
    X, y = digits
    if Estimator is ScratchMLPRegressor:
        y = X[:, 10] - X[:, 20]
    monitor = LayerMonitor()
    model = Estimator(hidden_size=(6, 5), solver=solver, epochs=4, tol=0, random_state=0)
    _fit(model.set_callbacks(monitor), X, y)
    rows = _rows(monitor)
    n_layers = len(model.coefs_)
    assert len(rows) == model.n_iter_ * n_layers
    assert [(r["epoch"], r["layer"]) for r in rows] == [
        (e, layer) for e in range(1, model.n_iter_ + 1) for layer in range(n_layers)
    ]
    activations = [r["activation"] for r in rows[:n_layers]]
    assert activations == ["sigmoid", "sigmoid", model.out_activation_]


def test_lbfgs_rows_follow_each_iteration(digits):
    X, y = digits
    params = dict(hidden_size=6, solver="lbfgs", random_state=0)
    monitor = LayerMonitor()
    _fit(ScratchMLPClassifier(**params, epochs=3).set_callbacks(monitor), X, y)
    # max_iter=e stops SciPy at the e-th iterate of the same run
    iterates = {e: _fit(ScratchMLPClassifier(**params, epochs=e), X, y) for e in (1, 2, 3)}
    probe = _probe_rows(len(X))
    by_epoch = _by_epoch(_rows(monitor))
    for e in (2, 3):
        model = iterates[e]
        expected = _expected_rows(
            model, model.coefs_, model.intercepts_, X[probe], X[probe],
            _targets(model, y[probe]), iterates[e - 1].coefs_,
        )  # fmt: skip
        _assert_rows_equal(by_epoch[e], expected)


def test_dead_units_appear_in_a_relu_layer_whose_bias_is_pushed_very_negative(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=(16, 8), activation="relu", init="he",
                               epochs=2, random_state=0, warm_start=True)  # fmt: skip
    _fit(clf, X, y)
    healthy = LayerMonitor()
    _fit(clf.set_params(epochs=1).set_callbacks(healthy), X, y)
    clf.intercepts_[0][:8] = -1e3  # half the first layer can no longer fire on any row
    pushed = LayerMonitor()
    _fit(clf.set_callbacks(pushed), X, y)
    assert _rows(healthy)[0]["dead_fraction"] < 0.5
    first_layer = _rows(pushed)[0]
    assert first_layer["layer"] == 0 and first_layer["dead_fraction"] >= 0.5
    assert np.isnan(_rows(pushed)[-1]["dead_fraction"])  # the softmax layer has no dead zone


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturation_appears_with_huge_weights(digits, activation):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=16, activation=activation, epochs=1,
                               random_state=0, warm_start=True)  # fmt: skip
    healthy = LayerMonitor()
    _fit(clf.set_callbacks(healthy), X, y)
    clf.coefs_[0] *= 1e3
    saturated = LayerMonitor()
    _fit(clf.set_callbacks(saturated), X, y)
    assert _rows(healthy)[0]["saturated_fraction"] < 0.1
    assert _rows(saturated)[0]["saturated_fraction"] > 0.9
    assert np.isnan(_rows(saturated)[0]["dead_fraction"])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_grid_search_records_every_fit(digits, n_jobs):
    X, y = digits
    monitor = LayerMonitor()
    estimator = ScratchMLPClassifier(epochs=3, tol=0, random_state=0).set_callbacks(monitor)
    search = GridSearchCV(estimator, {"hidden_size": [4, 8]}, cv=2, n_jobs=n_jobs)
    _fit(search, X, y)
    log = monitor.get_logs()
    assert log.estimator_name == "GridSearchCV"
    fits = {}
    for row in log.data:
        fits.setdefault(row["parent_task_id_path"], []).append(row)
    assert len(fits) == 2 * 2 + 1  # candidates x folds, and the refit
    assert all(len(rows) == 3 * 2 for rows in fits.values())
    # the refit, the last fit of the run, is the best estimator's: the same rows as a fit
    # of that network on its own
    alone = LayerMonitor()
    _fit(clone(search.best_estimator_).set_callbacks(alone), X, y)
    np.testing.assert_equal(_statistics(fits[max(fits)]), _statistics(_rows(alone)))


def test_a_monitor_survives_pickle_and_clone(digits):
    X, y = digits
    monitor = LayerMonitor()
    clf = _fit(
        ScratchMLPClassifier(hidden_size=8, epochs=2, random_state=0).set_callbacks(monitor),
        X,
        y,
    )
    assert clone(clf)._skl_callbacks == [monitor]  # shared, as scikit-learn's clone does
    copy = pickle.loads(pickle.dumps(clf))
    copied = copy._skl_callbacks[0]
    assert copied is not monitor
    np.testing.assert_equal(copied.get_logs().data, monitor.get_logs().data)  # NaN == NaN
    _fit(copy, X, y)  # the unpickled monitor records the new fit, not the original
    assert len(copied.get_logs("all")) == 2 and len(monitor.get_logs("all")) == 1
    np.testing.assert_equal(_statistics(copied.get_logs().data), _statistics(_rows(monitor)))


def test_float32_and_sparse_input_are_watched_too(digits):
    import scipy.sparse as sp

    X, y = digits
    for data in (X.astype(np.float32), sp.csr_matrix(X)):
        monitor = LayerMonitor(X=data[:20])
        clf = _fit(
            ScratchMLPClassifier(hidden_size=8, epochs=2, random_state=0).set_callbacks(monitor),
            data,
            y,
        )
        rows = _rows(monitor)
        assert len(rows) == 2 * 2
        assert all(np.isfinite([r["gradient_std"], r["activation_std"]]).all() for r in rows)
        assert clf.coefs_[0].dtype == data.dtype


def test_without_callbacks_the_bridge_is_never_built(digits, monkeypatch):
    X, y = digits

    def refuse(*args, **kwargs):
        raise AssertionError("the bridge was built")

    monkeypatch.setattr(EpochCallbacks, "__init__", refuse)
    for solver in ("adam", "lbfgs"):
        _fit(ScratchMLPClassifier(hidden_size=4, solver=solver, epochs=2), X, y)
    with pytest.raises(AssertionError, match="the bridge was built"):  # the patch is live
        _fit(ScratchMLPClassifier(hidden_size=4, epochs=2).set_callbacks(LayerMonitor()), X, y)


def test_no_epoch_start_is_copied_for_callbacks_that_do_not_ask(digits, monkeypatch):
    X, y = digits
    calls = []
    network_at_start = EpochCallbacks.network_at_start

    def counted(self):
        calls.append(len(calls))
        return network_at_start(self)

    monkeypatch.setattr(EpochCallbacks, "network_at_start", counted)
    clf = ScratchMLPClassifier(hidden_size=4, epochs=3, tol=0, random_state=0)
    _fit(clf.set_callbacks(ScoringMonitor(scoring="accuracy")), X, y)
    assert calls == []
    _fit(clf.set_callbacks(LayerMonitor()), X, y)
    assert calls == [0, 1, 2]


def test_monitor_refuses_other_estimators_and_empty_logs():
    with pytest.raises(TypeError, match="ScratchMLPClassifier and ScratchMLPRegressor"):
        LayerMonitor().setup(LogisticRegression(), None)
    with pytest.raises(ValueError, match="No logs to retrieve"):
        LayerMonitor().get_logs()


def test_data_as_pandas_has_the_documented_columns(digits):
    pytest.importorskip("pandas")
    X, y = digits
    monitor = LayerMonitor()
    _fit(ScratchMLPClassifier(hidden_size=4, epochs=2).set_callbacks(monitor), X, y)
    frame = monitor.get_logs().data_as_pandas
    assert list(frame.columns) == [
        "task_id_path", "parent_task_id_path", "epoch", "layer", "activation", *STATISTICS,
    ]  # fmt: skip
    assert len(frame) == 4


# ------------------------------------------------------------------ LayerMonitorDisplay


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def watched_sigmoid(digits):
    X, y = digits
    monitor = LayerMonitor()
    clf = ScratchMLPClassifier(hidden_size=(8, 6), epochs=5, tol=0, random_state=0)
    _fit(clf.set_callbacks(monitor), X, y)
    return monitor, clf


def test_display_draws_one_line_per_layer_in_each_panel(plt, watched_sigmoid):
    from sknn_scratch.plot import LayerMonitorDisplay

    monitor, clf = watched_sigmoid
    display = LayerMonitorDisplay.from_monitor(monitor)
    n_layers = len(clf.coefs_)
    assert display.quantities == (
        "saturated_fraction", "dead_fraction", "gradient_std", "update_ratio",
    )  # fmt: skip
    assert len(display.ax_) == 4 and display.figure_ is display.ax_[0].figure
    rows = _rows(monitor)
    for quantity, panel in zip(display.quantities, display.ax_):
        lines = display.lines_[quantity]
        assert len(lines) == n_layers
        others = [line for line in panel.get_lines() if line not in lines]
        assert others == ([display.reference_line_] if quantity == "update_ratio" else [])
        for layer, line in enumerate(lines):
            want = [r[quantity] for r in rows if r["layer"] == layer]
            np.testing.assert_array_equal(line.get_ydata(), want)
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    assert list(display.reference_line_.get_ydata()) == [-3, -3]
    assert display.ax_[2].get_yscale() == "log"
    # a sigmoid network has no dead zone: the panel says so instead of staying blank
    notes = [text.get_text() for text in display.ax_[1].texts]
    assert notes == ["not defined for\nsigmoid, softmax units"]


def test_display_draws_on_given_axes_and_chosen_quantities(plt, watched_sigmoid):
    from sknn_scratch.plot import LayerMonitorDisplay

    monitor, _ = watched_sigmoid
    _, axes = plt.subplots(1, 2)
    display = LayerMonitorDisplay.from_monitor(
        monitor, quantities=["weight_norm", "update_ratio"], ax=axes
    )
    assert list(display.ax_) == list(axes)
    assert display.ax_[0].get_title() == "Weight norm"
    with pytest.raises(ValueError, match="ax has 2 axes for 4 quantities"):
        LayerMonitorDisplay.from_monitor(monitor, ax=axes)
    with pytest.raises(ValueError, match="Unknown quantities"):
        LayerMonitorDisplay.from_monitor(monitor, quantities=["loss"])
    with pytest.raises(ValueError, match="has no fit"):
        LayerMonitorDisplay.from_monitor(monitor, fit=(7,))
    no_ratio = LayerMonitorDisplay.from_monitor(monitor, quantities=["weight_norm"])
    assert no_ratio.reference_line_ is None and len(no_ratio.ax_) == 1
