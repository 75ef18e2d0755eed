"""scikit-learn's callbacks: one sub-task per epoch (per L-BFGS iteration).

A recording callback checks the task tree the estimators open; ``ScoringMonitor`` scores the
model after every epoch; a callback can stop training; ``ProgressBar`` runs over epochs; a
callback raising at any hook, in any epoch, reaches the caller with the model unchanged.
"""

import pickle
import warnings

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS, property_data, skip_cuda_check_without_a_gpu
from hypothesis import assume, event, given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

SOLVERS = ["sgd", "adam", "lbfgs"]


class Recorder:
    """A callback that writes down every hook it sees, and may stop after an epoch."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.calls.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.calls.append(("end", context.task_name))
        finished = sum(call == ("end", context.task_name) for call in self.calls)
        return context.task_name != "fit" and finished == self.stop_after

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))

    def count(self, kind, task="epoch"):
        return self.calls.count((kind, task))


class CallbackError(Exception):
    """What a failing callback raises: the caller must get this very exception."""


class Raiser:
    """A callback that raises at one hook: ``"setup"``, ``"teardown"``, the ``n``-th epoch's
    ``"begin"`` or ``"end"``, or the whole fit's ``"fit_begin"`` or ``"fit_end"``."""

    def __init__(self, hook, n=1):
        self.hook, self.n, self.seen = hook, n, 0
        self.error = CallbackError(f"{hook} {n}")

    def _hear(self, hook, task_name):
        if task_name == "fit":
            if self.hook == f"fit_{hook}":
                raise self.error
            return
        if self.hook == hook:
            self.seen += 1
            if self.seen == self.n:
                raise self.error

    def setup(self, estimator, context):
        if self.hook == "setup":
            raise self.error

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self._hear("begin", context.task_name)

    def on_fit_task_end(self, estimator, context, **kwargs):
        self._hear("end", context.task_name)
        return False

    def teardown(self, estimator, context):
        if self.hook == "teardown":
            raise self.error


def state_of(estimator) -> bytes:
    """The estimator's state, bit for bit, without its callbacks (which count what they saw)."""
    return pickle.dumps({k: v for k, v in estimator.__dict__.items() if k != "_skl_callbacks"})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_fit_is_one_task_with_one_sub_task_per_epoch(digits, solver):
    X, y = digits
    recorder = Recorder()
    clf = ScratchMLPClassifier(hidden_size=8, solver=solver, epochs=4, tol=0, random_state=0)
    _fit(clf.set_callbacks(recorder), X, y)
    assert recorder.calls[0] == ("setup", "fit") and recorder.calls[-1] == ("teardown", "fit")
    assert recorder.calls[1] == ("begin", "fit") and recorder.calls[-2] == ("end", "fit")
    assert recorder.count("begin") == recorder.count("end") == clf.n_iter_ == 4
    assert recorder.count("setup", "fit") == recorder.count("teardown", "fit") == 1
    epochs = recorder.calls[2:-2]
    assert epochs == [("begin", "epoch"), ("end", "epoch")] * 4  # each ends before the next


def test_lbfgs_reports_each_iteration(digits):
    X, y = digits
    recorder = Recorder()
    clf = ScratchMLPClassifier(hidden_size=8, solver="lbfgs", epochs=15, random_state=0)
    _fit(clf.set_callbacks(recorder), X, y)
    # every iteration begins and ends; the one L-BFGS opened but never ran ends empty
    assert recorder.count("begin") == recorder.count("end") == clf.n_iter_ + 1
    assert recorder.count("begin", "fit") == recorder.count("end", "fit") == 1


def test_partial_fit_reports_its_epoch(digits):
    X, y = digits
    recorder = Recorder()
    clf = ScratchMLPClassifier(hidden_size=8, random_state=0).set_callbacks(recorder)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.arange(10))
    assert recorder.count("begin") == recorder.count("end") == 3
    assert recorder.count("setup", "fit") == recorder.count("teardown", "fit") == 3


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_callback_can_stop_training_after_an_epoch(digits, solver):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=8, solver=solver, epochs=50, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopped on request: no warning
        clf.set_callbacks(Recorder(stop_after=3)).fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    unstopped = _fit(
        ScratchMLPClassifier(hidden_size=8, solver=solver, epochs=3, tol=0, random_state=0),
        X,
        y,
    )
    for a, b in zip(clf.coefs_, unstopped.coefs_):  # the model after 3 epochs exactly
        np.testing.assert_array_equal(a, b)


def test_a_stopping_callback_stops_a_regressor_too(digits):
    X, _ = digits
    y = X[:, 10] + X[:, 20]
    reg = ScratchMLPRegressor(hidden_size=4, epochs=40, tol=0, random_state=0)
    reg.set_callbacks(Recorder(stop_after=2)).fit(X, y)
    assert reg.n_iter_ == 2


@pytest.mark.parametrize("solver", SOLVERS)
def test_scoring_monitor_scores_the_model_after_every_epoch(digits, solver):
    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    params = dict(hidden_size=8, solver=solver, epochs=5, tol=0, random_state=0)
    clf = _fit(ScratchMLPClassifier(**params).set_callbacks(monitor), X, y)
    logs = monitor.get_logs().data_as_pandas
    assert len(logs) == clf.n_iter_ + 1  # the fit itself, and each epoch
    fit_row = logs["task_id_path"] == (0,)
    assert logs.loc[fit_row, "accuracy"].item() == clf.score(X, y)
    per_epoch = logs.loc[~fit_row, "accuracy"].to_numpy()
    two_epochs = _fit(ScratchMLPClassifier(**dict(params, epochs=2)), X, y)
    assert per_epoch[1] == two_epochs.score(X, y)  # the second epoch's row: that model
    assert per_epoch[-1] == clf.score(X, y)


def test_no_callback_changes_nothing(digits):
    X, y = digits
    params = dict(hidden_size=8, epochs=4, tol=0, random_state=0)
    plain = _fit(ScratchMLPClassifier(**params), X, y)
    watched = _fit(ScratchMLPClassifier(**params).set_callbacks(Recorder()), X, y)
    assert plain.loss_curve_ == watched.loss_curve_
    for a, b in zip(plain.coefs_ + plain.intercepts_, watched.coefs_ + watched.intercepts_):
        assert a.tobytes() == b.tobytes()


def test_progress_bar_reaches_the_end(digits, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich (the 'progress' extra)")
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=8, epochs=3, tol=0, random_state=0)
    _fit(clf.set_callbacks(ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert "ScratchMLPClassifier - fit" in out and "100%" in out


def test_progress_bar_over_a_grid_search_with_two_jobs(digits, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich (the 'progress' extra)")
    X, y = digits
    search = GridSearchCV(
        ScratchMLPClassifier(epochs=3, tol=0, random_state=0),
        {"hidden_size": [4, 8]},
        cv=2,
        n_jobs=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "ScratchMLPClassifier - fit" in out
    assert search.best_estimator_.n_iter_ == 3


HOOKS = ["setup", "fit_begin", "begin", "end", "fit_end", "teardown"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_callbacks_exception_reaches_the_caller_and_changes_nothing(
    digits, hook, solver, method
):
    if method == "partial_fit" and solver == "lbfgs":
        pytest.skip("L-BFGS has no partial_fit")
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=6, solver=solver, epochs=3, tol=0, random_state=0)
    _fit(clf.set_params(warm_start=True), X[:200], y[:200])
    before = state_of(clf)
    raiser = Raiser(hook)  # at the first epoch: nothing of the call has been saved yet
    clf.set_callbacks(raiser)
    with pytest.raises(CallbackError) as caught:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            getattr(clf, method)(X[200:], y[200:])
    assert caught.value is raiser.error
    assert state_of(clf) == before
    fresh = ScratchMLPClassifier(hidden_size=6, solver=solver, epochs=3, random_state=0)
    with pytest.raises(CallbackError):
        _fit(fresh.set_callbacks(Raiser(hook)), X, y)
    assert not hasattr(fresh, "coefs_")  # a first fit that fails leaves it unfitted


def test_callbacks_survive_pickle_and_clone(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=8, epochs=2, random_state=0)
    _fit(clf.set_callbacks(Recorder()), X, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert isinstance(copy._skl_callbacks[0], Recorder)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    _fit(copy, X, y)  # the unpickled callback records the new fit
    assert copy._skl_callbacks[0].count("end") == 4
    assert clone(clf)._skl_callbacks == clf._skl_callbacks


@parametrize_with_checks(
    [ScratchMLPClassifier(epochs=20).set_callbacks(Recorder()),
     ScratchMLPRegressor(epochs=20).set_callbacks(Recorder())]
)  # fmt: skip
def test_estimator_checks_pass_with_a_callback_set(estimator, check):
    skip_cuda_check_without_a_gpu(check)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ------------------------------------------------------------------ any hook, any epoch


class _CallbackError(Exception):
    pass


class _RaiseAt:
    """A callback that raises at the ``n``-th call of one hook (``"setup"``, ``"begin"``,
    ``"end"`` or ``"teardown"``, over the fit's task and its epochs alike)."""

    def __init__(self, hook, n):
        self.hook, self.n, self.calls = hook, n, 0
        self.error = _CallbackError(f"{hook} #{n}")

    def _hear(self, hook):
        if hook == self.hook:
            self.calls += 1
            if self.calls == self.n:
                raise self.error

    def setup(self, estimator, context):
        self._hear("setup")

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self._hear("begin")

    def on_fit_task_end(self, estimator, context, **kwargs):
        self._hear("end")
        return False

    def teardown(self, estimator, context):
        self._hear("teardown")


_FEATURES = {
    "plain": {},
    "dropout": {"dropout": 0.3},
    "early stopping": {"early_stopping": True, "validation_fraction": 0.25},
    "cosine and clipping": {"learning_rate_schedule": "cosine", "max_grad_norm": 0.5},
    "adaptive": {"learning_rate_schedule": "adaptive", "solver": "sgd"},
    "class weights": {"class_weight": {0: 2.0, 1: 0.5}},
}


def _state(estimator):
    return pickle.dumps({k: v for k, v in estimator.__dict__.items() if k != "_skl_callbacks"})


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    hook=st.sampled_from(["setup", "begin", "end", "teardown"]),
    n=st.integers(1, 6),
    solver=st.sampled_from(["sgd", "adam", "lbfgs"]),
    method=st.sampled_from(["fit", "partial_fit"]),
    fitted=st.booleans(),
    feature=st.sampled_from(sorted(_FEATURES)),
    classifier=st.booleans(),
)
def test_a_callback_raising_at_any_hook_and_epoch_reaches_the_caller_and_changes_nothing(
    seed, hook, n, solver, method, fitted, feature, classifier
):
    params = dict(_FEATURES[feature])
    solver = params.pop("solver", solver)
    assume(not (method == "partial_fit" and solver == "lbfgs"))  # L-BFGS has no partial_fit
    assume(not (method == "partial_fit" and params.get("early_stopping")))
    assume(not (solver == "lbfgs" and params.get("dropout")))
    assume(classifier or "class_weight" not in params)
    X, y_class, y_count = property_data(seed)
    y = y_class if classifier else y_count
    if classifier and params.get("early_stopping"):  # a stratified split needs 2 per class
        assume(np.bincount(y).min() >= 3)
    Estimator = ScratchMLPClassifier if classifier else ScratchMLPRegressor
    estimator = Estimator(
        hidden_size=4, solver=solver, epochs=4, tol=0, warm_start=True, random_state=seed,
        **params,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if fitted:
            estimator.fit(X, y)
        before = _state(estimator)
        raiser = _RaiseAt(hook, n)
        estimator.set_callbacks(raiser)
        extra = {"classes": np.unique(y)} if classifier and method == "partial_fit" else {}
        try:
            getattr(estimator, method)(X[::-1], y[::-1], **extra)
        except _CallbackError as error:
            assert error is raiser.error  # the callback's own exception, unchanged
            assert _state(estimator) == before
            event("the callback raised")
            return
    assert raiser.calls < n  # the hook never came round n times: the call went through
