"""scikit-learn's own estimator checks, run on both estimators with default parameters.

With ``SCIPY_ARRAY_API=1`` (``tests/conftest.py`` sets it) and torch or array_api_strict
installed, they include scikit-learn's Array API checks.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


def _cuda_device_present():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@parametrize_with_checks([ScratchMLPClassifier(), ScratchMLPRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    # scikit-learn skips its CUDA checks only where torch was built without CUDA; a CUDA
    # build on a machine with no GPU has nothing to run them on
    if "cuda" in repr(check) and not _cuda_device_present():
        pytest.skip("no CUDA device on this machine")
    check(estimator)
