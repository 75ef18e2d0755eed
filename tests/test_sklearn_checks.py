"""scikit-learn's own estimator checks, run on both estimators with default parameters."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


@parametrize_with_checks([ScratchMLPClassifier(), ScratchMLPRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
