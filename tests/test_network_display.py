"""NetworkDisplay and HiddenUnitsDisplay: what they draw, the numbers behind each picture,
and what they say when they cannot draw."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core.network import Parameters, predict
from sknn_scratch.plot import HiddenUnitsDisplay, NetworkDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short fits, on purpose
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def moons():
    return make_moons(n_samples=60, noise=0.2, random_state=0)


@pytest.fixture(scope="module")
def small_classifier(moons):
    """2 inputs, hidden layers of 3 and 4 tanh units, 1 output: 6 + 12 + 4 = 22 weights."""
    X, y = moons
    clf = ScratchMLPClassifier(hidden_size=(3, 4), activation="tanh", epochs=50, random_state=0)
    return _fit(clf, X, y)


@pytest.fixture(scope="module")
def iris_frame():
    pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = ScratchMLPClassifier(hidden_size=5, epochs=30, random_state=0)
    return X, y, _fit(clf, X, y)


@pytest.fixture(scope="module")
def regressor():
    """4 features; hidden layers of 6 and 3 relu units."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    reg = ScratchMLPRegressor(hidden_size=(6, 3), activation="relu", epochs=40, random_state=0)
    return X, y, _fit(reg, X, y)


def _red_minus_blue(colors):
    colors = np.asarray(colors)
    return colors[:, 0] - colors[:, 2]


# ----------------------------------------------------------------------------- NetworkDisplay


def test_network_draws_one_line_per_weight_between_the_units_it_joins(small_classifier):
    display = NetworkDisplay.from_estimator(small_classifier)
    coefs = small_classifier.coefs_

    assert [len(lines.get_segments()) for lines in display.lines_] == [c.size for c in coefs]
    assert sum(len(w) for w in display.weights_) == 22
    assert display.summarised_ == [False, False, False]
    for layer, coef in enumerate(coefs):
        pairs = display.connections_[layer]
        # every weight once, and each line stands for the weight it says it does
        assert sorted(map(tuple, pairs)) == [tuple(p) for p in np.argwhere(np.ones(coef.shape))]
        np.testing.assert_array_equal(display.weights_[layer], coef[pairs[:, 0], pairs[:, 1]])
        segments = np.asarray(display.lines_[layer].get_segments())
        positions_in = display.unit_positions_[layer]
        positions_out = display.unit_positions_[layer + 1]
        np.testing.assert_array_equal(segments[:, 0], positions_in[pairs[:, 0]])
        np.testing.assert_array_equal(segments[:, 1], positions_out[pairs[:, 1]])
    # one circle per unit, in one column per layer
    assert [len(units.get_offsets()) for units in display.units_] == [2, 3, 4, 1]
    assert [set(p[:, 0]) for p in display.unit_positions_] == [{0}, {1}, {2}, {3}]
    assert display.figure_ is display.ax_.figure


def test_network_line_widths_grow_with_the_absolute_weight(small_classifier):
    display = NetworkDisplay.from_estimator(small_classifier, linewidths=(0.5, 6.0))
    weights = np.concatenate(display.weights_)
    widths = np.concatenate([lines.get_linewidths() for lines in display.lines_])
    strength = np.abs(weights)

    order = np.argsort(strength)
    assert np.all(np.diff(widths[order]) >= 0)  # monotone in |w|
    # in proportion to |w| / max|w|, from the minimum width up to the widest
    np.testing.assert_allclose(widths, 0.5 + 5.5 * strength / strength.max())
    assert widths[np.argmax(strength)] == pytest.approx(6.0)
    assert widths.min() >= 0.5
    # within a layer, the strongest lines are drawn last (on top)
    for layer_weights in display.weights_:
        assert np.all(np.diff(np.abs(layer_weights)) >= 0)


def test_network_colours_follow_signs_of_weights_and_biases(small_classifier):
    display = NetworkDisplay.from_estimator(small_classifier)
    for lines, weights in zip(display.lines_, display.weights_):
        # orange (red above blue) for negative weights, blue for positive ones
        difference = _red_minus_blue(lines.get_colors())
        assert np.all((difference > 0) == (weights < 0))
        assert np.all((difference < 0) == (weights > 0))
    for units, biases in zip(display.units_[1:], small_classifier.intercepts_):
        difference = _red_minus_blue(units.get_facecolors())
        assert np.all(np.sign(-difference) == np.sign(biases))
    # one symmetric scale for weights and biases
    every = np.concatenate(
        [np.ravel(a) for a in small_classifier.coefs_ + small_classifier.intercepts_]
    )
    largest = np.abs(every).max()
    assert (display.norm_.vmin, display.norm_.vmax) == pytest.approx((-largest, largest))
    assert display.colorbar_ is not None


def test_network_summarises_wide_layers_with_the_strongest_weights_per_unit():
    rng = np.random.default_rng(0)
    shapes = [(20, 100), (100, 5), (5, 3)]
    coefs = [rng.normal(size=shape) for shape in shapes]
    intercepts = [rng.normal(size=n_out) for _, n_out in shapes]
    display = NetworkDisplay(coefs=coefs, intercepts=intercepts).plot(max_units=16, top_k=2)

    # 20 -> 100 and 100 -> 5 touch a layer over 16 units; 5 -> 3 is drawn whole
    assert display.summarised_ == [True, True, False]
    assert [len(w) for w in display.weights_] == [2 * 100, 2 * 100, 15]
    # 20 -> 100: each of the 100 units keeps its 2 strongest incoming weights
    pairs = display.connections_[0]
    assert np.array_equal(np.bincount(pairs[:, 1], minlength=100), np.full(100, 2))
    for unit in range(100):
        kept = set(pairs[pairs[:, 1] == unit, 0])
        assert kept == set(np.argsort(-np.abs(coefs[0][:, unit]))[:2])
    # 100 -> 5: each of the 100 units keeps its 2 strongest outgoing weights
    pairs = display.connections_[1]
    assert np.array_equal(np.bincount(pairs[:, 0], minlength=100), np.full(100, 2))
    for unit in range(100):
        kept = set(pairs[pairs[:, 0] == unit, 1])
        assert kept == set(np.argsort(-np.abs(coefs[1][unit]))[:2])
    np.testing.assert_array_equal(
        display.weights_[1], coefs[1][display.connections_[1][:, 0], display.connections_[1][:, 1]]
    )
    assert "strongest 2 weights per unit" in display.ax_.get_title()
    # the wide column is squeezed to the height of 16 units
    heights = display.unit_positions_[1][:, 1]
    assert heights.max() - heights.min() == pytest.approx(15)


def test_network_of_a_fitted_wide_layer_still_draws():
    X, y = make_classification(n_samples=60, n_features=30, n_informative=5, random_state=0)
    clf = _fit(ScratchMLPClassifier(hidden_size=100, epochs=5, random_state=0), X, y)
    display = NetworkDisplay.from_estimator(clf, top_k=3)
    assert display.summarised_ == [True, False]  # 100 -> 1: k=3 >= 1, all 100 weights drawn
    assert [len(w) for w in display.weights_] == [300, 100]
    assert "strongest 3 weights per unit" in display.ax_.get_title()
    # 30 inputs: too many names to read, the caption counts them instead
    assert not [t.get_text() for t in display.ax_.get_yticklabels()]
    assert display.ax_.get_xticklabels()[0].get_text() == "Input\n30 features"


def test_network_names_inputs_by_feature_names_and_outputs_by_classes(iris_frame):
    X, _, clf = iris_frame
    display = NetworkDisplay.from_estimator(clf)
    inputs = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert inputs == list(X.columns) == list(clf.feature_names_in_)
    right = display.ax_.child_axes[0]  # the secondary axis of the outputs
    assert [t.get_text() for t in right.get_yticklabels()] == ["P(0)", "P(1)", "P(2)"]
    captions = [t.get_text() for t in display.ax_.get_xticklabels()]
    assert captions == [
        "Input\n4 features",
        "Hidden 1\n5 units\nsigmoid",
        "Output\n3 units\nsoftmax",
    ]
    assert display.ax_.get_title() == "ScratchMLPClassifier"


def test_network_default_names_for_arrays_binary_and_regression(small_classifier, regressor):
    display = NetworkDisplay.from_estimator(small_classifier, name="moons", colorbar=False)
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == ["x0", "x1"]
    right = display.ax_.child_axes[0]
    assert [t.get_text() for t in right.get_yticklabels()] == ["P(1)"]  # one sigmoid unit
    assert display.ax_.get_title() == "moons"
    assert display.colorbar_ is None

    *_, reg = regressor
    display = NetworkDisplay.from_estimator(reg)
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == ["x0", "x1", "x2", "x3"]
    assert [t.get_text() for t in display.ax_.child_axes[0].get_yticklabels()] == ["y"]
    assert display.ax_.get_xticklabels()[-1].get_text() == "Output\n1 unit\nidentity"


def test_network_draws_on_the_given_axes(small_classifier):
    fig, (left, right) = plt.subplots(ncols=2)
    display = NetworkDisplay.from_estimator(small_classifier, ax=right)
    assert display.ax_ is right and display.figure_ is fig
    assert not left.collections


def test_network_of_sklearn_mlp(moons):
    X, y = moons
    mlp = _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0), X, y)
    display = NetworkDisplay.from_estimator(mlp)
    assert [len(w) for w in display.weights_] == [6, 3]
    captions = [t.get_text() for t in display.ax_.get_xticklabels()]
    assert captions[1:] == ["Hidden 1\n3 units\nrelu", "Output\n1 unit\nlogistic"]


def test_network_mismatched_intercepts_error():
    with pytest.raises(ValueError, match="intercepts have sizes"):
        NetworkDisplay(coefs=[np.ones((2, 3))], intercepts=[np.ones(2)]).plot()


# ------------------------------------------------------------------------ HiddenUnitsDisplay


def _grid_of(display, X, features):
    """The rows that the display's grid stands for: X's medians, the two features varied."""
    grid = np.tile(np.median(X, axis=0), (display.xx0.size, 1))
    grid[:, features[0]] = display.xx0.ravel()
    grid[:, features[1]] = display.xx1.ravel()
    return grid


def _layer_activations(estimator, grid, layer):
    """A hidden layer's activations, by the core's forward pass itself."""
    params = Parameters.from_arrays(estimator.coefs_, estimator.intercepts_)
    return predict(params, estimator._network_spec(params.layer_sizes), grid, layer=layer)


def test_hidden_units_one_map_per_unit_equal_to_the_activations(regressor):
    X, y, reg = regressor  # hidden layers of 6 and 3 units, 4 features
    features = (2, 0)
    for layer, n_units in [(0, 6), (1, 3)]:
        display = HiddenUnitsDisplay.from_estimator(
            reg, X, y=y, layer=layer, features=features, grid_resolution=30
        )
        assert len(display.maps_) == len(display.axes_) == display.n_units_drawn_ == n_units
        assert display.responses.shape == (n_units, 30, 30)
        assert display.decision_ax_ not in list(display.axes_)  # one more panel
        grid = _grid_of(display, X, features)
        expected = _layer_activations(reg, grid, layer)
        if layer == 1:  # the last hidden layer: transform gives it too
            np.testing.assert_allclose(expected, reg.transform(grid), rtol=0, atol=1e-12)
        for unit in range(n_units):
            np.testing.assert_allclose(
                display.responses[unit], expected[:, unit].reshape(30, 30), rtol=0, atol=1e-12
            )
            drawn = np.asarray(display.maps_[unit].get_array()).reshape(30, 30)
            np.testing.assert_allclose(drawn, display.responses[unit], rtol=0, atol=1e-12)
        # the output's panel: the regression's prediction on the same grid
        np.testing.assert_allclose(
            display.decision_values_, reg.predict(grid).reshape(30, 30), rtol=0, atol=1e-12
        )
        assert display.decision_ax_.get_title() == "prediction"
        # relu units: from 0 to the largest activation drawn
        assert display.norm_.vmin == 0
        assert display.norm_.vmax == pytest.approx(display.responses.max())


def test_hidden_units_grid_spans_the_data_with_a_margin(regressor):
    X, _, reg = regressor
    display = HiddenUnitsDisplay.from_estimator(reg, X, features=(1, 3), grid_resolution=25)
    assert display.xx0.shape == display.xx1.shape == (25, 25)
    for grid, column in [(display.xx0, X[:, 1]), (display.xx1, X[:, 3])]:
        span = column.max() - column.min()
        assert grid.min() == pytest.approx(column.min() - 0.05 * span)
        assert grid.max() == pytest.approx(column.max() + 0.05 * span)
    np.testing.assert_array_equal(display.xx0[0], display.xx0[-1])  # a regular grid
    assert "other 2 features at their medians" in display.ax_.get_title()
    # every panel shows the data in the two features
    assert len(display.points_) == 6 + 1
    np.testing.assert_array_equal(display.points_[0].get_offsets(), X[:, [1, 3]])


def test_hidden_units_of_a_binary_classifier(small_classifier, moons):
    X, y = moons
    clf = small_classifier
    display = HiddenUnitsDisplay.from_estimator(clf, X, y=y, layer=-1, grid_resolution=20)
    assert len(display.maps_) == 4  # layer=-1: the last hidden layer, of 4 units
    grid = _grid_of(display, X, (0, 1))
    np.testing.assert_allclose(
        display.responses, clf.transform(grid).T.reshape(4, 20, 20), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        display.decision_values_, clf.predict_proba(grid)[:, 1].reshape(20, 20), atol=1e-12
    )
    assert display.decision_ax_.get_title() == "P(1)"
    assert display.boundary_ is not None  # the 0.5 line
    # points coloured by class: orange for class 0, blue for class 1
    difference = _red_minus_blue(display.points_[0].get_facecolors())
    assert np.all((difference > 0) == (y == 0))
    # tanh units: the colour scale is tanh's range
    assert (display.norm_.vmin, display.norm_.vmax) == (-1, 1)
    assert display.ax_.get_title() == "Hidden 2 of ScratchMLPClassifier: 4 tanh units"


def test_hidden_units_of_a_multiclass_classifier_by_feature_names(iris_frame):
    pd = pytest.importorskip("pandas")
    X, y, clf = iris_frame
    features = ("petal length (cm)", "petal width (cm)")
    display = HiddenUnitsDisplay.from_estimator(clf, X, y=y, features=features, grid_resolution=15)
    grid = _grid_of(display, X.to_numpy(), (2, 3))
    expected = _layer_activations(clf, grid, 0)
    np.testing.assert_allclose(
        display.responses, expected.T.reshape(5, 15, 15), rtol=0, atol=1e-12
    )
    proba = clf.predict_proba(pd.DataFrame(grid, columns=X.columns))
    np.testing.assert_allclose(display.decision_values_, proba.max(axis=1).reshape(15, 15))
    assert display.ax_.get_xlabel().startswith("petal length (cm)")
    assert display.ax_.get_ylabel().startswith("petal width (cm)")
    # sigmoid units: the colour scale is sigmoid's range
    assert (display.norm_.vmin, display.norm_.vmax) == (0, 1)


def test_hidden_units_wide_layer_draws_the_first_units_with_a_note():
    X, y = make_moons(n_samples=40, noise=0.2, random_state=0)
    clf = _fit(ScratchMLPClassifier(hidden_size=100, epochs=3, random_state=0), X, y)
    display = HiddenUnitsDisplay.from_estimator(clf, X, grid_resolution=10)
    assert len(display.maps_) == display.n_units_drawn_ == 64
    assert display.responses.shape == (100, 10, 10)
    assert "first 64 of 100 units" in display.ax_.get_title()
    plt.close("all")
    display.plot(max_units=3)  # the cap is the caller's
    assert len(display.maps_) == 3 and "first 3 of 100 units" in display.ax_.get_title()


def test_hidden_units_draws_inside_the_given_axes(small_classifier, moons):
    X, _ = moons
    fig, (left, right) = plt.subplots(ncols=2)
    display = HiddenUnitsDisplay.from_estimator(small_classifier, X, ax=right, grid_resolution=10)
    assert display.ax_ is right and display.figure_ is fig
    assert all(inset in right.child_axes for inset in [*display.axes_, display.decision_ax_])
    assert not left.collections and not left.child_axes


def test_network_fitted_in_torch_draws_under_array_api_dispatch(moons):
    torch = pytest.importorskip("torch")
    scipy_array_api = pytest.importorskip("scipy._lib._array_api")
    if not scipy_array_api.SCIPY_ARRAY_API:
        pytest.skip("SCIPY_ARRAY_API=1 was not set before SciPy was imported")
    X, y = moons
    X_torch, y_torch = torch.asarray(X), torch.asarray(y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = _fit(ScratchMLPClassifier(hidden_size=3, epochs=5, random_state=0), X_torch, y_torch)
        network = NetworkDisplay.from_estimator(clf)
        units = HiddenUnitsDisplay.from_estimator(clf, X_torch, y=y_torch, grid_resolution=10)
        grid = torch.asarray(_grid_of(units, X, (0, 1)))
        expected = clf.transform(grid).numpy()
        proba = clf.predict_proba(grid).numpy()
    for coef, pairs, weights in zip(clf.coefs_, network.connections_, network.weights_):
        np.testing.assert_array_equal(weights, coef.numpy()[pairs[:, 0], pairs[:, 1]])
    np.testing.assert_allclose(units.responses, expected.T.reshape(3, 10, 10), atol=1e-12)
    np.testing.assert_allclose(units.decision_values_, proba[:, 1].reshape(10, 10), atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer": 2}, r"layer=2 is out of range: the network has 2 hidden layers"),
        ({"layer": -3}, r"layer=-3 is out of range"),
        ({"layer": 1.0}, r"layer must be an int"),
        ({"features": (0, 2)}, r"Feature index 2 is out of range: the network has 2 input"),
        ({"features": (1, 1)}, r"two different features"),
        ({"features": (0,)}, r"a pair of features"),
        ({"features": ("a", 0)}, r"Unknown feature 'a': it was fitted without feature names"),
    ],
)
def test_hidden_units_bad_layer_or_feature_errors(small_classifier, moons, kwargs, message):
    X, _ = moons
    with pytest.raises(ValueError, match=message):
        HiddenUnitsDisplay.from_estimator(small_classifier, X, **kwargs)


def test_hidden_units_without_hidden_layer_error(moons):
    X, y = moons
    clf = _fit(ScratchMLPClassifier(hidden_size=(), epochs=3, random_state=0), X, y)
    with pytest.raises(ValueError, match="no hidden layer"):
        HiddenUnitsDisplay.from_estimator(clf, X)
    assert len(NetworkDisplay.from_estimator(clf).lines_) == 1  # the network still draws


@pytest.mark.parametrize("estimator", [ScratchMLPClassifier(), ScratchMLPRegressor()])
def test_unfitted_estimator_errors(estimator, moons):
    X, _ = moons
    with pytest.raises(NotFittedError):
        NetworkDisplay.from_estimator(estimator)
    with pytest.raises(NotFittedError):
        HiddenUnitsDisplay.from_estimator(estimator, X)
