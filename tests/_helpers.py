"""Small helpers shared by the test modules."""

import warnings
from pathlib import Path

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
