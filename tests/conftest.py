"""Test-session settings shared by every test module."""

import atexit
import os
import shutil
import tempfile

# scikit-learn's Array API support (and SciPy's, which it builds on) is switched on by this
# variable, read when SciPy is first imported: set it before anything imports SciPy, so that
# the Array API tests and scikit-learn's array-API estimator checks run (they skip when
# torch or array_api_strict is not installed). NumPy fits are unaffected.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Numba keeps the compiled loops on disk and numbers each new signature in an index file; two
# processes compiling different signatures of one loop at the same moment can give two of them
# the same number, and a later process then loads the wrong machine code (numba/numba#4807).
# Each pytest-xdist worker compiles into a cache of its own, removed when it exits.
if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sknn_scratch_numba_")
    atexit.register(shutil.rmtree, os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)

import pytest
from hypothesis import settings
from sklearn.datasets import load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread_per_worker():
    """pytest-xdist runs one worker per core; a multi-threaded BLAS in each would oversubscribe."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# Hypothesis: 60 examples per property by default; CI draws them from a fixed seed so that a
# green run stays green (HYPOTHESIS_PROFILE=thorough explores 1000 fresh ones per property).
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


# Data sets most test modules use; a module that needs another variant gives it another name.
@pytest.fixture(scope="session")
def iris():
    """Iris with standardised features."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def diabetes():
    """Diabetes with standardised features and target."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


# The data sets as scikit-learn loads them, for the tests that need them unscaled.
@pytest.fixture(scope="session")
def iris_raw():
    """Iris as loaded: features in centimetres."""
    return load_iris(return_X_y=True)


@pytest.fixture(scope="session")
def diabetes_raw():
    """Diabetes as loaded: small centred features, targets in the hundreds."""
    return load_diabetes(return_X_y=True)
