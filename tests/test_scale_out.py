"""Scaling out (``docs/user_guide/scaling.rst``): a search on a Dask cluster, a model fitted on a
worker, out-of-core training with dask-ml, and successive halving over epochs.

The cluster tests start a real ``distributed.LocalCluster`` (two worker processes with one
thread each, on the loopback interface) once for the module, and skip when ``distributed`` or
``dask_ml`` (the ``distributed`` extra) is not installed. They are marked to run on one
pytest-xdist worker (``--dist loadgroup``), so that one cluster serves them all.
"""

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import sknn_scratch
from sknn_scratch import ScratchMLPClassifier

dask_cluster = pytest.mark.xdist_group("dask_cluster")

# short fits: several candidates stop before converging, on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client of a two-process local cluster, closed when the module's tests are done."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: None would still open 8787
        local_directory=str(tmp_path_factory.mktemp("dask")),
    )
    client = distributed.Client(cluster)
    try:
        # The workers are new processes (spawned; multiprocessing hands them this process's
        # sys.path): they must import the package being tested, not another copy. A module
        # travels by name, so each worker imports its own and getattr reads its file.
        assert client.run(getattr, sknn_scratch, "__file__") == dict.fromkeys(
            client.scheduler_info()["workers"], sknn_scratch.__file__
        )
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def shuffled_iris():
    """Standardised iris in a fixed random order, so that every chunk holds several classes."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    return StandardScaler().fit_transform(X)[order], y[order]


def _grid_search():
    return GridSearchCV(
        ScratchMLPClassifier(epochs=15, random_state=0),
        {"hidden_size": [4, 16], "learning_rate": [1e-2, 1e-1]},
        cv=3,
    )


def _score_columns(search):
    return {
        key: value
        for key, value in search.cv_results_.items()
        if key.endswith("test_score") and not key.startswith("rank")
    }


@dask_cluster
def test_grid_search_on_the_cluster_equals_the_local_search(client, shuffled_iris):
    from distributed import get_task_stream

    X, y = shuffled_iris
    local = _grid_search().fit(X, y)
    with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        remote = _grid_search().fit(X, y)

    assert tasks.data, "no task ran on the cluster"
    assert {task["worker"] for task in tasks.data} <= set(client.scheduler_info()["workers"])
    local_scores, remote_scores = _score_columns(local), _score_columns(remote)
    assert set(local_scores) == set(remote_scores)
    assert {"split0_test_score", "split2_test_score", "mean_test_score"} <= set(local_scores)
    for key, scores in local_scores.items():
        assert_array_equal(remote_scores[key], scores, err_msg=key)
    assert remote.best_params_ == local.best_params_
    assert remote.best_index_ == local.best_index_
    assert_array_equal(
        remote.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X)
    )


@dask_cluster
def test_a_model_fitted_on_a_worker_predicts_on_the_client_as_one_fitted_here(
    client, shuffled_iris
):
    X, y = shuffled_iris
    # converges before 300 epochs: a worker would print its ConvergenceWarning otherwise
    model = ScratchMLPClassifier(hidden_size=8, learning_rate=0.05, epochs=300, random_state=0)
    # a bound method pickles the estimator by value and its class by reference
    remote = client.submit(clone(model).fit, X, y).result()
    local = clone(model).fit(X, y)

    check_is_fitted(remote)
    assert remote is not model and remote.n_iter_ < model.epochs
    assert_array_equal(remote.classes_, local.classes_)
    for remote_weights, local_weights in zip(
        remote.coefs_ + remote.intercepts_, local.coefs_ + local.intercepts_
    ):
        assert_array_equal(remote_weights, local_weights)
    assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
    assert_array_equal(remote.predict(X), local.predict(X))
    assert remote.score(X, y) == local.score(X, y) > 0.8
    # and the other way: a model fitted here predicts the same on a worker
    assert_array_equal(client.submit(local.predict_proba, X).result(), local.predict_proba(X))
    # the returned model trains on here
    remote.partial_fit(X, y)
    local.partial_fit(X, y)
    assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


@dask_cluster
def test_dask_ml_incremental_equals_a_loop_of_partial_fit_over_the_chunks(client, shuffled_iris):
    da = pytest.importorskip("dask.array")
    dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = shuffled_iris
    classes = np.unique(y)
    model = ScratchMLPClassifier(hidden_size=8, learning_rate=0.05, random_state=0)
    X_dask, y_dask = da.from_array(X, chunks=(30, -1)), da.from_array(y, chunks=30)
    assert X_dask.numblocks == (5, 1)

    incremental = dask_ml_wrappers.Incremental(clone(model), shuffle_blocks=False)
    incremental.fit(X_dask, y_dask, classes=classes)

    local = clone(model)
    for start in range(0, len(y), 30):
        local.partial_fit(X[start : start + 30], y[start : start + 30], classes=classes)

    fitted = incremental.estimator_
    # one epoch per chunk: five calls of partial_fit, every sample seen once
    assert len(fitted.loss_curve_) == len(local.loss_curve_) == 5
    assert fitted.t_ == local.t_ == len(y)
    assert_array_equal(fitted.loss_curve_, local.loss_curve_)
    for dask_weights, local_weights in zip(
        fitted.coefs_ + fitted.intercepts_, local.coefs_ + local.intercepts_
    ):
        assert_array_equal(dask_weights, local_weights)
    # prediction chunk by chunk, on the workers (ParallelPostFit's predict_proba); compared
    # with the same chunks here, since BLAS may round a row differently in a batch of
    # another size (in the last bit)
    by_chunk = [local.predict_proba(X[start : start + 30]) for start in range(0, len(y), 30)]
    assert_array_equal(incremental.predict_proba(X_dask).compute(), np.vstack(by_chunk))
    np.testing.assert_allclose(
        incremental.predict_proba(X_dask).compute(), local.predict_proba(X), rtol=1e-12
    )


def test_halving_over_epochs_refits_the_best_candidate_with_the_most_epochs():
    X, y = load_digits(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[:600]), y[:600]
    search = HalvingGridSearchCV(
        # n_iter_no_change=inf: every candidate runs all the epochs it is given
        ScratchMLPClassifier(random_state=0, n_iter_no_change=np.inf),
        {"hidden_size": [4, 32], "learning_rate": [1e-3, 1e-2]},
        resource="epochs",
        min_resources=3,
        max_resources=27,
        factor=3,
        cv=3,
    )
    search.fit(X, y)

    assert list(search.n_resources_) == [3, 9]  # 4 candidates, then 2: two iterations
    assert list(search.n_candidates_) == [4, 2]
    most = max(search.n_resources_)
    assert search.best_params_["epochs"] == most
    assert search.best_estimator_.epochs == most
    assert search.best_estimator_.n_iter_ == most
    assert len(search.best_estimator_.loss_curve_) == most
    # the candidates of the last iteration were cross-validated with that many epochs
    last = search.cv_results_["iter"] == search.n_iterations_ - 1
    assert set(search.cv_results_["param_epochs"][last]) == {most}
    assert search.best_params_["learning_rate"] == 1e-2
