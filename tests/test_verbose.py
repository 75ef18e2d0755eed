"""verbose: one line per epoch (per iteration for L-BFGS) with the numbers of the curves."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

NUMBER = r"([-+0-9.eE]+|nan|inf)"
EPOCH = re.compile(
    rf"^Epoch (\d+), loss = {NUMBER}"
    rf"(?:, validation loss = {NUMBER}, validation score = {NUMBER})?"
    rf", time = {NUMBER}s$"
)
ITERATION = re.compile(rf"^Iteration (\d+), loss = {NUMBER}, time = {NUMBER}s$")


def _fit_and_read(capsys, estimator, X, y):
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_one_line_per_epoch_with_loss_and_time(capsys, iris, solver):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=4, solver=solver, epochs=6, verbose=True)
    lines = _fit_and_read(capsys, clf, X, y)
    assert len(lines) == clf.n_iter_ == 6
    for epoch, line in enumerate(lines, start=1):
        match = EPOCH.match(line)
        assert match, line
        assert int(match[1]) == epoch
        assert float(match[2]) == pytest.approx(clf.loss_curve_[epoch - 1], abs=1e-8)
        assert match[3] is None  # no validation numbers without early stopping
        assert 0 <= float(match[5]) < 10


def test_early_stopping_lines_show_validation_loss_and_score(capsys, iris):
    X, y = iris
    clf = ScratchMLPClassifier(
        hidden_size=4, learning_rate=0.01, early_stopping=True, epochs=8, verbose=1,
        random_state=0,
    )  # fmt: skip
    lines = _fit_and_read(capsys, clf, X, y)
    assert len(lines) == clf.n_iter_
    matches = [EPOCH.match(line) for line in lines]
    assert all(matches), lines
    np.testing.assert_allclose([float(m[2]) for m in matches], clf.loss_curve_, atol=1e-8)
    np.testing.assert_allclose(
        [float(m[3]) for m in matches], clf.validation_loss_curve_, atol=1e-8
    )
    np.testing.assert_allclose([float(m[4]) for m in matches], clf.validation_scores_, atol=1e-6)


def test_lbfgs_prints_one_line_per_iteration(capsys, iris):
    X, y = iris
    reg = ScratchMLPRegressor(hidden_size=4, solver="lbfgs", epochs=7, tol=0.0, verbose=True)
    lines = _fit_and_read(capsys, reg, X, y)
    assert len(lines) == reg.n_iter_ == 7
    for iteration, line in enumerate(lines, start=1):
        match = ITERATION.match(line)
        assert match, line
        assert int(match[1]) == iteration
        assert float(match[2]) == pytest.approx(reg.loss_curve_[iteration - 1], abs=1e-8)


def test_partial_fit_prints_one_line_per_call(capsys, iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=4, verbose=True)
    capsys.readouterr()
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    lines = capsys.readouterr().out.splitlines()
    assert [EPOCH.match(line)[1] for line in lines] == ["1", "2", "3"]


def test_silent_by_default(capsys, iris):
    X, y = iris
    for solver in ("adam", "lbfgs"):
        assert (
            _fit_and_read(capsys, ScratchMLPClassifier(hidden_size=3, solver=solver), X, y) == []
        )
