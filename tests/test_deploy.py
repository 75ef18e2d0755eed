"""Saving and deploying: skops round trips, ONNX graphs, scikit-learn's own MLP.

Each format is checked against the model's own predictions: skops and ``to_sklearn`` exactly,
ONNX (float32, run by onnxruntime) to 1e-5.
"""

import warnings

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS, property_data
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, to_onnx
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _targets(kind, y):
    return {
        "multiclass": y,
        "binary": y == 1,
        "strings": np.array(["setosa", "versicolor", "virginica"])[y],
        "multilabel": np.column_stack([y == 0, y == 1, y == 2]).astype(int),
    }[kind]


CLASSIFIERS = {
    "adam": dict(),
    "sgd": dict(solver="sgd"),
    "lbfgs": dict(solver="lbfgs"),
    "early-stopping": dict(early_stopping=True),
    "class-weights": dict(class_weight="balanced"),
}


# ------------------------------------------------------------------------------------ skops


@pytest.mark.parametrize("params", CLASSIFIERS.values(), ids=CLASSIFIERS.keys())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_skops_round_trip_trusts_only_our_estimator(iris, tmp_path, params, dtype):
    sio = pytest.importorskip("skops.io")
    X, y = iris
    X = X.astype(dtype)
    model = ScratchMLPClassifier(hidden_size=8, epochs=20, random_state=0, **params).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path) == ["sknn_scratch._classifier.ScratchMLPClassifier"]
    loaded = sio.load(path, trusted=["sknn_scratch._classifier.ScratchMLPClassifier"])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.coefs_[0].dtype == dtype and loaded.n_iter_ == model.n_iter_
    assert loaded.loss_curve_ == model.loss_curve_


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber", "quantile"])
def test_skops_round_trip_of_a_regressor_continues_training_identically(diabetes, tmp_path, loss):
    sio = pytest.importorskip("skops.io")
    X, y = diabetes
    y = np.exp(y) if loss == "poisson" else y
    model = ScratchMLPRegressor(hidden_size=6, loss=loss, epochs=5, random_state=0).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert sio.get_untrusted_types(file=path) == ["sknn_scratch._regressor.ScratchMLPRegressor"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.partial_fit(X, y)  # Adam's moments were saved: the same next step
    model.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.coefs_[0], model.coefs_[0])


# ------------------------------------------------------------------------------------- ONNX


def _run_onnx(model, X):
    ort = pytest.importorskip("onnxruntime")
    graph = to_onnx(model, X[:2])
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("kind", ["multiclass", "binary", "strings", "multilabel"])
def test_onnx_graph_predicts_as_the_classifier(iris, activation, kind):
    pytest.importorskip("skl2onnx")
    X, y = iris
    y = _targets(kind, y)
    model = ScratchMLPClassifier(hidden_size=(8, 5), activation=activation, epochs=30)
    model.set_params(random_state=0, loss="squared_error" if kind == "binary" else "log_loss")
    model.fit(X, y)
    labels, proba = _run_onnx(model, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)


LABEL_KINDS = {
    "int": lambda y: y,
    "float": lambda y: y.astype(float),  # 0.0 / 1.0 / 2.0: the commonest targets
    "float-binary": lambda y: (y == 1).astype(float),
    "bool": lambda y: y == 1,
    "int8": lambda y: (y * 3 - 4).astype(np.int8),
    "large-uint64": lambda y: (np.uint64(2**62) + y.astype(np.uint64)),
    "str": lambda y: np.array(["setosa", "versicolor", "virginica"])[y],
    "object-str": lambda y: np.array(["a", "bb", "ccc"], dtype=object)[y],
}


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_onnx_graph_of_every_label_kind_loads_and_returns_predicts_labels(iris, kind):
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    X, y = iris
    y = LABEL_KINDS[kind](y)
    model = ScratchMLPClassifier(hidden_size=5, epochs=30, random_state=0).fit(X, y)
    labels, proba = _run_onnx(model, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    # skl2onnx's own entry point, with its default ZipMap of the probabilities, loads too
    import onnxruntime as ort

    graph = skl2onnx_to_onnx(model, X[:2].astype(np.float32))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    zipped_labels = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})[0]
    np.testing.assert_array_equal(zipped_labels, model.predict(X))


def test_onnx_export_of_labels_a_graph_cannot_hold_says_what_to_do(iris):
    pytest.importorskip("skl2onnx")
    X, y = iris
    huge = np.array([0, 1, 2**64 - 1], dtype=np.uint64)[y]  # past int64's range
    model = ScratchMLPClassifier(hidden_size=3, epochs=2, random_state=0).fit(X, huge)
    with pytest.raises(ValueError, match="do not fit the int64 labels"):
        to_onnx(model, X[:2])


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "absolute_error"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "softplus"])
def test_onnx_graph_predicts_as_the_regressor(diabetes, loss, activation):
    pytest.importorskip("skl2onnx")
    X, y = diabetes
    Y = np.column_stack([np.exp(y), np.exp(-y)]) if loss == "poisson" else y
    model = ScratchMLPRegressor(hidden_size=8, activation=activation, loss=loss, epochs=30)
    model.set_params(random_state=0).fit(X, Y)
    (predictions,) = _run_onnx(model, X)
    expected = model.predict(X).reshape(len(X), -1)
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-5)


def test_onnx_graph_of_a_pipeline_with_a_scaler(iris):
    pytest.importorskip("skl2onnx")
    X, y = load_iris(return_X_y=True)  # unscaled: the pipeline's scaler is in the graph
    pipe = make_pipeline(StandardScaler(), ScratchMLPClassifier(hidden_size=8, random_state=0))
    pipe.fit(X, y)
    labels, proba = _run_onnx(pipe, X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)


def test_to_onnx_without_skl2onnx_says_what_to_install(iris, monkeypatch):
    import sys

    from sknn_scratch import _onnx

    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # an import of it now fails
    monkeypatch.setattr(_onnx, "_REGISTERED", [])
    X, y = iris
    model = ScratchMLPClassifier(hidden_size=4, epochs=2).fit(X, y)
    with pytest.raises(ImportError, match=r"pip install onnx skl2onnx onnxruntime"):
        to_onnx(model, X[:2])


# ------------------------------------------------------------------------------ to_sklearn


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "strings", "multilabel"])
def test_to_sklearn_gives_an_mlp_classifier_that_predicts_the_same(iris, activation, kind):
    X, y = iris
    y = _targets(kind, y)
    model = ScratchMLPClassifier(hidden_size=(8, 5), activation=activation, epochs=30)
    model.set_params(random_state=0).fit(X, y)
    twin = model.to_sklearn()
    assert type(twin) is MLPClassifier and twin.activation != "sigmoid"
    np.testing.assert_array_equal(twin.predict(X), model.predict(X))
    np.testing.assert_allclose(twin.predict_proba(X), model.predict_proba(X), atol=1e-15)
    assert twin.get_params()["hidden_layer_sizes"] == (8, 5)


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber"])
def test_to_sklearn_gives_an_mlp_regressor_that_predicts_the_same(diabetes, loss):
    X, y = diabetes
    y = np.exp(y) if loss == "poisson" else y
    model = ScratchMLPRegressor(hidden_size=6, loss=loss, epochs=10, random_state=0).fit(X, y)
    twin = model.to_sklearn()
    assert type(twin) is MLPRegressor
    np.testing.assert_array_equal(twin.predict(X), model.predict(X))
    twin.partial_fit(X, y)  # a usable scikit-learn model, trained further by its own rules
    assert len(twin.loss_curve_) == len(model.loss_curve_) + 1


def test_to_sklearn_names_what_it_cannot_represent(iris):
    X, y = iris
    model = ScratchMLPClassifier(hidden_size=4, activation="gelu", epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="activation='gelu'"):
        model.to_sklearn()


def test_a_network_moved_from_torch_saves_with_skops_and_continues(iris, tmp_path):
    sio = pytest.importorskip("skops.io")
    torch = pytest.importorskip("torch")
    import sklearn
    from sklearn.utils._array_api import move_estimator_to

    X, y = iris
    with sklearn.config_context(array_api_dispatch=True):
        model = ScratchMLPClassifier(hidden_size=6, epochs=3, random_state=0)
        model.fit(torch.asarray(X), torch.asarray(y))
        moved = move_estimator_to(model, np, "cpu")
    path = tmp_path / "moved.skops"
    sio.dump(moved, path)
    assert sio.get_untrusted_types(file=path) == ["sknn_scratch._classifier.ScratchMLPClassifier"]
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    reference = ScratchMLPClassifier(hidden_size=6, epochs=3, random_state=0).fit(X, y)
    loaded.partial_fit(X, y)
    reference.partial_fit(X, y)  # the optimizer's state came along
    np.testing.assert_allclose(loaded.coefs_[0], reference.coefs_[0], atol=1e-10)


def test_onnx_takes_a_dataframe_or_sparse_sample_and_a_multi_output_regressor(diabetes):
    pd = pytest.importorskip("pandas")
    ort = pytest.importorskip("onnxruntime")
    import scipy.sparse as sp

    X, y = diabetes
    Y = np.column_stack([y, -y, 2 * y])
    model = ScratchMLPRegressor(hidden_size=6, epochs=5, random_state=0).fit(X, Y)
    for sample in (pd.DataFrame(X[:3]), sp.csr_matrix(X[:3])):
        graph = to_onnx(model, sample)
        output = graph.graph.output[0].type.tensor_type.shape.dim
        assert output[1].dim_value == 3  # one column per output, as declared
        session = ort.InferenceSession(graph.SerializeToString())
        (predictions,) = session.run(None, {"X": X.astype(np.float32)})
        np.testing.assert_allclose(predictions, model.predict(X), rtol=1e-5, atol=1e-5)


def test_to_onnx_of_an_unfitted_model_says_so():
    pytest.importorskip("skl2onnx")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_onnx(ScratchMLPClassifier(), np.zeros((2, 3)))


_LABEL_SETS = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=2, max_size=3, unique=True),
    st.lists(st.integers(-(2**40), 2**40).map(float), min_size=2, max_size=3, unique=True),
    st.just([False, True]),
    st.lists(st.text(min_size=1, max_size=4), min_size=2, max_size=3, unique=True),
)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(seed=st.integers(0, 2**16), labels=_LABEL_SETS)
def test_an_onnx_graph_returns_the_labels_predict_returns(seed, labels):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")

    X = property_data(seed, n_samples=30)[0]
    y = np.array(labels)[np.arange(30) % len(labels)]
    clf = ScratchMLPClassifier(hidden_size=3, epochs=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    session = ort.InferenceSession(to_onnx(clf, X[:2]).SerializeToString())
    graph_labels = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})[0]
    predicted = clf.predict(X)
    assert graph_labels.tolist() == predicted.tolist()
