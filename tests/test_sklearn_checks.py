"""scikit-learn's own estimator checks, run on both estimators with default parameters.

With ``SCIPY_ARRAY_API=1`` (``tests/conftest.py`` sets it) and torch or array_api_strict
installed, they include scikit-learn's Array API checks.
"""

from _helpers import skip_cuda_check_without_a_gpu
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


@parametrize_with_checks([ScratchMLPClassifier(), ScratchMLPRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    skip_cuda_check_without_a_gpu(check)
    check(estimator)
