"""Small helpers shared by the test modules."""

import warnings

from sklearn.exceptions import ConvergenceWarning


def fit_quietly(estimator, X, y, **fit_params):
    """``estimator.fit(X, y)`` without the ConvergenceWarning of a deliberately short run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)
