"""LossCurveDisplay: what it draws, where, and what it says when it cannot."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.plot import LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def early_stopped(iris_raw):
    X, y = iris_raw
    clf = ScratchMLPClassifier(
        hidden_size=8, learning_rate=0.02, early_stopping=True, epochs=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs may not be enough
        return clf.fit(X, y)


def test_from_estimator_draws_training_loss_only_without_early_stopping(iris_raw):
    X, y = iris_raw
    clf = ScratchMLPClassifier(hidden_size=8, learning_rate=0.02, epochs=15, random_state=0)
    with pytest.warns(ConvergenceWarning):  # 15 epochs do not converge
        clf.fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)

    np.testing.assert_allclose(display.loss_line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), np.arange(1, 16))
    assert display.validation_loss_line_ is None
    assert display.score_line_ is None and display.score_ax_ is None
    assert display.best_epoch_line_ is None
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Loss"
    assert display.ax_.get_title() == "ScratchMLPClassifier"
    assert display.figure_ is display.ax_.figure
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == ["Training loss"]


def test_from_estimator_draws_validation_curves_and_best_epoch(early_stopped):
    display = LossCurveDisplay.from_estimator(early_stopped)

    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), early_stopped.validation_loss_curve_
    )
    np.testing.assert_allclose(display.score_line_.get_ydata(), early_stopped.validation_scores_)
    assert display.score_line_.axes is display.score_ax_
    assert display.score_ax_ is not display.ax_
    best_epoch = int(np.argmax(early_stopped.validation_scores_)) + 1
    assert display.best_epoch_line_.get_xdata()[0] == best_epoch
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [
        "Training loss",
        "Validation loss",
        "Validation score",
        f"Best score (epoch {best_epoch})",
    ]


def test_plot_uses_given_axes_name_log_scale_and_line_kwargs(early_stopped):
    fig, (left, right) = plt.subplots(ncols=2)
    display = LossCurveDisplay.from_estimator(
        early_stopped,
        ax=right,
        name="my net",
        log_scale=True,
        loss_kwargs={"color": "black", "label": "train"},
        score_kwargs={"linestyle": "--"},
    )
    assert display.ax_ is right and display.figure_ is fig
    assert not left.lines
    assert display.ax_.get_title() == "my net"
    assert display.ax_.get_yscale() == "log"
    assert display.loss_line_.get_color() == "black"
    assert display.loss_line_.get_label() == "train"
    assert display.score_line_.get_linestyle() == "--"


def test_from_estimator_labels_lbfgs_iterations():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = ScratchMLPRegressor(hidden_size=5, solver="lbfgs", epochs=20, random_state=0)
    with pytest.warns(ConvergenceWarning):  # 20 iterations do not converge
        reg.fit(X, y)
    display = LossCurveDisplay.from_estimator(reg)
    assert display.ax_.get_xlabel() == "Iteration"
    assert len(display.loss_line_.get_ydata()) == reg.n_iter_


def test_from_estimator_accepts_sklearn_mlp(iris_raw):
    X, y = iris_raw
    mlp = MLPClassifier(hidden_layer_sizes=8, early_stopping=True, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    display = LossCurveDisplay.from_estimator(mlp)
    assert display.validation_loss_line_ is None  # sklearn keeps no validation loss
    np.testing.assert_allclose(display.score_line_.get_ydata(), mlp.validation_scores_)


def test_display_draws_stored_curves_without_estimator():
    display = LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5], validation_scores=[0.5, 0.9, 0.8])
    display.plot()
    assert display.best_epoch_line_.get_xdata()[0] == 2
    assert display.ax_.get_title() == ""


def test_from_estimator_unfitted_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(ScratchMLPClassifier())


def test_from_estimator_without_loss_curve_error(iris_raw):
    from sklearn.linear_model import LogisticRegression

    X, y = iris_raw
    with pytest.raises(ValueError, match="has no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression(max_iter=500).fit(X, y))


def test_plot_empty_loss_curve_error():
    with pytest.raises(ValueError, match="loss_curve is empty"):
        LossCurveDisplay(loss_curve=[]).plot()


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    # a None entry in sys.modules makes ``import matplotlib.pyplot`` raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        LossCurveDisplay(loss_curve=[1.0, 0.5]).plot()


def test_package_imports_without_matplotlib():
    import subprocess

    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "import sknn_scratch, sknn_scratch.plot; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_plot_on_shared_axes_keeps_earlier_curves_in_legend():
    _, ax = plt.subplots()
    LossCurveDisplay(loss_curve=[1.0, 0.5]).plot(ax=ax, loss_kwargs={"label": "first"})
    display = LossCurveDisplay(loss_curve=[2.0, 1.0, 0.1]).plot(
        ax=ax, loss_kwargs={"label": "second"}
    )
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == ["first", "second"]
