"""Small helpers shared by the test modules."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def guide_pages():
    """The documentation's own pages (not generated ones), relative to ``docs/``."""
    return sorted(
        page.relative_to(DOCS)
        for page in DOCS.rglob("*.rst")
        if not any(
            part.startswith("_") or part in ("auto_examples", "generated")
            for part in page.relative_to(DOCS).parts
        )
    )


def fit_quietly(estimator, X, y, **fit_params):
    """``estimator.fit(X, y)`` without the ConvergenceWarning of a deliberately short run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def snapshot(estimator):
    """Every bit of an estimator's state (parameters, fitted arrays, optimizer, history).

    A call that fails must leave it unchanged: compare the snapshots taken before and after.
    """
    return pickle.dumps(estimator.__dict__)


# Property-based tests (hypothesis): the number of examples comes from the profile that
# conftest.py loads; these settings only let slow examples through.
PROPERTY_SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])


def property_data(seed, n_samples=40, n_features=3):
    """Small data for property-based tests: ``X``, three classes and positive counts."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    y_class = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    y_count = rng.poisson(np.exp(0.5 * X[:, 0]))
    return X, y_class, y_count.astype(float) + (y_count.sum() == 0)


def finite_difference_gradient(loss, *arrays, step=1e-6):
    """Centred differences of ``loss()``, a function of the values held in ``arrays``.

    Each entry of each array is moved by ``+step`` and ``-step`` in place (and put back), and
    ``loss`` is evaluated at both: the numerical gradient that backpropagation is checked
    against. Returns one vector, the arrays' entries in order (row-major within each).
    """
    gradient = []
    for array in arrays:
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + step
            loss_plus = loss()
            array[index] = saved - step
            loss_minus = loss()
            array[index] = saved
            gradient.append((loss_plus - loss_minus) / (2 * step))
    return np.array(gradient)


def skip_cuda_check_without_a_gpu(check):
    """Skip one of scikit-learn's array-API checks on CUDA where no GPU is present.

    scikit-learn skips them only where torch was built without CUDA; a CUDA build on a
    machine without a GPU has nothing to run them on.
    """
    if "cuda" not in repr(check):
        return
    try:
        import torch
    except ImportError:
        return  # scikit-learn skips the check itself
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
