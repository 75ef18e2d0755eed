"""scikit-learn's callbacks (``sklearn.callback``), driven by the core's per-epoch hooks.

A fit is one task for scikit-learn's callbacks, with one sub-task per epoch (per L-BFGS
iteration). :class:`EpochCallbacks` is the bridge: an :class:`~.core.training.EpochHook`
that opens an epoch's sub-task when the core is about to run it, closes it when the epoch
ends (handing the callbacks the model as it is then), and passes on a callback's request to
stop. The core itself never sees scikit-learn.

A callback that asks for a ``fitted_estimator`` when an epoch begins gets the network the
epoch starts from, and one that asks when it ends, the network it left (a
:class:`~sknn_scratch.LayerMonitor` compares the two). Both are built only for a callback
that asks: the bridge itself copies nothing, and without callbacks it is not even built.
"""

import contextlib

from .core import EpochHook


def _has_callbacks(estimator) -> bool:
    """Whether any callback listens to this fit: the estimator's own, or those a
    meta-estimator (a ``GridSearchCV`` with a progress bar) handed down to it."""
    return bool(getattr(estimator, "_skl_callbacks", None))


class EpochCallbacks(EpochHook):
    """The callback contexts of one ``fit`` or ``partial_fit`` call.

    Parameters
    ----------
    estimator : BaseScratchMLP
        The estimator being fitted.
    X, y : arrays
        The training data, as the callbacks see it (a ``ScoringMonitor`` scores on it).
    max_epochs : int
        The most sub-tasks the fit may open: its epochs, plus one for L-BFGS, which opens
        the next iteration's sub-task before SciPy decides whether to run it.
    params : Parameters
        The parameters the call trains: one object throughout the call, whose values are
        the network's at any hook.
    """

    def __init__(self, estimator, X, y, max_epochs, params):
        self.estimator, self.X, self.y = estimator, X, y
        self.params = params
        self.root = estimator._init_callback_context(max_subtasks=max_epochs)
        self.root.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
        self.epoch = None  # the open sub-task

    @classmethod
    def for_fit(cls, estimator, X, y, max_epochs, params) -> "EpochCallbacks | None":
        """The bridge, or None when no callback listens (and then nothing is done at all)."""
        if not _has_callbacks(estimator):
            return None
        return cls(estimator, X, y, max_epochs, params)

    def epoch_begin(self, history) -> None:
        self.epoch = self.root.subcontext(task_name="epoch")
        self.epoch.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            reconstruction_attributes=self.network_at_start,
        )

    def network_at_start(self) -> dict:
        """The fitted attributes of the network an epoch starts from: the parameters as
        they are when it begins (copied only for a callback that asks)."""
        return _fitted_state(self.params)

    def epoch_end(self, history, params, seconds) -> bool:
        epoch, self.epoch = self.epoch, None
        return bool(
            epoch.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                reconstruction_attributes=lambda: _fitted_state(params),
            )
        )

    def close(self, estimator=None) -> None:
        """End the fit's task: with the fitted ``estimator`` after a fit, or as an empty
        task (and any epoch left open, e.g. by an error, too) when it failed."""
        if self.epoch is not None:  # opened, never finished
            self.epoch.call_on_fit_task_end(estimator=self.estimator)
            self.epoch = None
        if estimator is None:
            self.root.call_on_fit_task_end(estimator=self.estimator)
            return
        self.root.call_on_fit_task_end(
            estimator=estimator,
            X=self.X,
            y=self.y,
            reconstruction_attributes=lambda: {
                "coefs_": list(estimator.coefs_),
                "intercepts_": list(estimator.intercepts_),
            },
        )

    def close_after_error(self) -> None:
        """End the tasks of a call that is raising: the callbacks hear that it ended, and
        the call's own exception, not one a callback raises while hearing it, goes on."""
        with contextlib.suppress(Exception):
            self.close()


def _fitted_state(params) -> dict:
    """The attributes a copy of the estimator needs to predict as the network is now."""
    copy = params.copy()
    return {"coefs_": copy.coefs, "intercepts_": copy.intercepts}
