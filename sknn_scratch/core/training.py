"""The training loops (the tutorial's step 8, ``train_network``).

``train_stochastic`` is the tutorial's loop grown up: per epoch it (optionally) shuffles the
samples, and per batch it runs the forward pass, the loss, backpropagation and an optimizer
step. After each epoch it records the loss, scores the held-out data when early stopping,
and decides whether training has converged. ``train_lbfgs`` hands the same loss and gradient
to SciPy's L-BFGS-B instead.

A run whose loss or parameters stop being finite raises :class:`TrainingDivergedError`, after
putting back the parameters it had at the start of that epoch: no NaN is left behind.
"""

import copy
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .losses import loss_value
from .network import (
    Dropout,
    Workspace,
    forward_is_finite,
    loss_and_gradient,
    predict_if_finite,
)


class TrainingDivergedError(ValueError, ArithmeticError):
    """Raised when the loss, the parameters or the outputs become infinite or NaN in training.

    A ``ValueError`` (scikit-learn raises one for the same situation, and model selection
    tools catch it) and an ``ArithmeticError``. ``epoch`` is the epoch (or L-BFGS iteration)
    that failed. ``recovered`` is True when early stopping kept its best validated
    parameters instead of those from the start of the failing epoch.
    """

    def __init__(self, message, epoch=None, recovered=False):
        super().__init__(message)
        self.epoch = epoch
        self.recovered = recovered


@dataclass
class TrainingHistory:
    """What training has done so far; carried over by ``partial_fit`` and ``warm_start``."""

    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    best_loss: float = math.inf
    no_improvement_count: int = 0
    validation_scores: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    best_validation_score: float = -math.inf

    def copy(self) -> "TrainingHistory":
        """An independent copy (a failed fit then leaves the original untouched)."""
        return copy.deepcopy(self)


@dataclass
class Validation:
    """Held-out data for early stopping.

    ``score`` maps the network's outputs on ``X`` to a number where higher is better (the
    estimator passes accuracy or R²).
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None
    score: object


_STOCHASTIC_ADVICE = (
    "Use a smaller learning_rate, or scale the inputs (e.g. with StandardScaler) and, for "
    "regression, the targets."
)
_LBFGS_ADVICE = (
    "Scale the inputs (e.g. with StandardScaler) and, for regression, the targets, or increase "
    "alpha."
)


_KEPT_EPOCH_START = "The parameters from the start of that epoch were kept."


def _diverged(what, epoch, advice, kept=_KEPT_EPOCH_START, recovered=False):
    return TrainingDivergedError(
        f"Training diverged at epoch {epoch}: the {what} became infinite or NaN. {kept} {advice}",
        epoch=epoch,
        recovered=recovered,
    )


def _input_bound(X):
    """The largest ``|x|`` in ``X`` (dense or sparse), as a Python float."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return 0.0
    return max(float(values.max()), -float(values.min()))  # no |X| temporary of X's size


def _what_diverged(loss, params, spec, X, x_max, optimizer=None):
    """What is no longer finite after an epoch (loss, parameters, optimizer or outputs), or None.

    The forward pass on the training data is checked too: the loss is measured on each batch
    before its step, so the parameters left by the last step could still make the network
    overflow (finite weights, infinite predictions) without the loss ever showing it.
    """
    if not math.isfinite(loss):
        return "loss"
    if not np.isfinite(params.flat).all():
        return "parameters"
    if optimizer is not None and not optimizer.is_finite():
        return "optimizer's state (moments or velocity)"
    if not forward_is_finite(params, spec, X, x_max):
        return "network's values on the training data"
    return None


def _row_buffer(array, n_rows):
    """An empty buffer for ``n_rows`` rows of the dense ``array``, in the same memory order."""
    order = "F" if _column_major(array) else "C"
    return np.empty((n_rows, array.shape[1]), dtype=array.dtype, order=order)


def _column_major(array):
    return array.flags.f_contiguous and not array.flags.c_contiguous


def _aligned(array):
    """``array`` itself, or an aligned copy when its data is not aligned to its item size.

    Arrays built on a foreign buffer at an offset (``np.frombuffer``, shared memory from Dask or
    Ray) can be misaligned, and NumPy then gathers rows by copying the whole array first: a
    copy per batch instead of one per fit (``benchmarks/alignment.py`` measures it).
    """
    if sp.issparse(array):
        if not array.data.flags.aligned:
            array = array.copy()
        return array
    return array if array.flags.aligned else np.require(array, requirements="A")


def _take_rows(array, index, out):
    """Rows ``index`` of ``array``: into the buffer ``out`` when dense, a new matrix if sparse.

    ``mode="clip"`` skips the bounds check, which the indices (a permutation) do not need and
    which makes NumPy gather into a temporary copy first. A column-major array (a DataFrame's
    values often are) is gathered as the columns of its transpose: taking rows across the
    columns' memory was measured 60 times slower.
    """
    if sp.issparse(array):
        return array[index]
    out = out[: len(index)]
    if _column_major(array):
        np.take(array.T, index, axis=1, out=out.T, mode="clip")
    else:
        np.take(array, index, axis=0, out=out, mode="clip")
    return out


def _update_no_improvement(history, tol, loss, score, best_params, params):
    """One epoch's bookkeeping for convergence (scikit-learn's rules).

    With early stopping, an epoch counts as "no improvement" unless the validation score
    beat the best by ``tol``, and the best parameters are remembered (the function then
    returns True). Otherwise the same is done with the training loss.
    """
    if score is not None:
        if score < history.best_validation_score + tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        if score > history.best_validation_score:
            history.best_validation_score = score
            best_params[...] = params.flat
            return True
    else:
        if loss > history.best_loss - tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        history.best_loss = min(history.best_loss, loss)
    return False


def _report(history, validation_loss, seconds):
    line = f"Epoch {history.n_iter}, loss = {history.loss_curve[-1]:.8f}"
    if validation_loss is not None:
        line += (
            f", validation loss = {validation_loss:.8f}"
            f", validation score = {history.validation_scores[-1]:.6f}"
        )
    print(f"{line}, time = {seconds:.4f}s")


def _evaluate(params, spec, validation):
    """Loss and score of the current network on the held-out data; None for both when its
    outputs or the loss there are not finite (the training data's were)."""
    result = predict_if_finite(params, spec, validation.X, return_logits=True)
    if result is None:
        return None, None
    prob, logits = result
    loss = loss_value(
        spec.loss,
        spec.output_activation,
        validation.Y,
        logits,
        prob,
        validation.sample_weight,
        spec.loss_parameter,
    )
    if not math.isfinite(loss):
        return None, None
    return loss, float(validation.score(prob))


def _descend_one_epoch(
    params, spec, X, Y, sample_weight, optimizer, order, batch_size, workspace, grads, buffers,
    dropout,
):  # fmt: skip
    """One pass over the data, batch by batch: forward, loss, backward, optimizer step.

    Visits the samples in ``order`` (or as they are, when None), with new dropout masks for
    each batch when ``dropout`` is given. Returns the sum over batches
    of each batch's loss times its total sample weight, or NaN as soon as a loss is not
    finite (the caller then restores the parameters).
    """
    n_samples = Y.shape[0]
    loss_sum = 0.0
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        if order is None:
            X_batch, Y_batch = X[start:stop], Y[start:stop]
            w_batch = None if sample_weight is None else sample_weight[start:stop]
        else:
            index = order[start:stop]
            X_batch = _take_rows(X, index, buffers[0])
            Y_batch = _take_rows(Y, index, buffers[1])
            w_batch = None if sample_weight is None else sample_weight[index]
        masks = None if dropout is None else dropout.draw(stop - start)
        loss = loss_and_gradient(params, spec, X_batch, Y_batch, w_batch, workspace, grads, masks)
        if not math.isfinite(loss):
            return math.nan
        loss_sum += loss * (stop - start if w_batch is None else float(w_batch.sum()))
        optimizer.update(params.flat, grads.flat)
    return loss_sum


@np.errstate(over="ignore", invalid="ignore")
def train_stochastic(
    params,
    spec,
    X,
    Y,
    sample_weight,
    optimizer,
    history,
    *,
    epochs,
    batch_size,
    shuffle,
    rng,
    tol,
    n_iter_no_change,
    validation=None,
    verbose=False,
    incremental=False,
):
    """Mini-batch (or full-batch) gradient descent with ``optimizer``.

    Parameters
    ----------
    params : Parameters
        Updated in place.
    spec : NetworkSpec
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (one-hot, indicator or real values).
    sample_weight : ndarray of shape (n_samples,) or None
    optimizer : Optimizer
    history : TrainingHistory
        Updated in place: epoch count, loss curve, validation curves, convergence state.
    epochs : int
        Maximum number of passes over the data.
    batch_size : int
        Samples per batch; at least ``n_samples`` gives full-batch descent.
    shuffle : bool
        Whether to visit the samples in a new random order at each epoch.
    rng : numpy.random.RandomState
    tol, n_iter_no_change : float, int
        Training stops when the loss (or the validation score) has not improved by ``tol``
        for more than ``n_iter_no_change`` epochs in a row.
    validation : Validation or None
        Held-out data for early stopping; the best parameters are restored at the end.
    verbose : bool
        Print one line per epoch.
    incremental : bool
        Run a single epoch (``partial_fit``).

    Returns
    -------
    converged : bool
        False if training ran out of epochs; True if it converged (or was interrupted).
    """
    n_samples = Y.shape[0]
    X = _aligned(X)
    batch_size = min(batch_size, n_samples)
    full_batch = batch_size == n_samples
    dtype = params.flat.dtype
    workspace = Workspace(spec.layer_sizes, batch_size, dtype)
    grads = params.zeros_like()
    x_buffer = None if sp.issparse(X) or full_batch else _row_buffer(X, batch_size)
    y_buffer = None if full_batch else _row_buffer(Y, batch_size)
    total_weight = n_samples if sample_weight is None else float(sample_weight.sum())
    best_params = params.flat.copy() if validation is not None else None
    saved = _EpochStart(params, optimizer)
    dropout = None
    if spec.dropout > 0:
        dropout = Dropout(spec.dropout, spec.layer_sizes, batch_size, dtype, rng)
    x_max = _input_bound(X)
    # the epoch whose parameters best_params holds (with warm_start, the previous fit's best)
    best_epoch = history.n_iter if validation is not None and history.validation_scores else None

    converged = False
    try:
        for _ in range(epochs):
            started = time.perf_counter()
            saved.save()
            order = rng.permutation(n_samples) if shuffle and not full_batch else None
            loss_sum = _descend_one_epoch(
                params, spec, X, Y, sample_weight, optimizer, order, batch_size,
                workspace, grads, (x_buffer, y_buffer), dropout,
            )  # fmt: skip
            what = _what_diverged(loss_sum, params, spec, X, x_max, optimizer)
            validation_loss = score = None
            if what is None and validation is not None:
                validation_loss, score = _evaluate(params, spec, validation)
                if score is None:
                    what = "outputs on the validation data"
            if what is not None:
                raise _undo_diverged_epoch(what, history, saved, best_params, best_epoch)

            history.n_iter += 1
            history.t += n_samples
            history.loss_curve.append(loss_sum / total_weight)
            if validation is not None:
                history.validation_loss_curve.append(validation_loss)
                history.validation_scores.append(score)
            if _update_no_improvement(
                history, tol, history.loss_curve[-1], score, best_params, params
            ):
                best_epoch = history.n_iter
            optimizer.end_epoch(history.n_iter, history.t)
            if verbose:
                _report(history, validation_loss, time.perf_counter() - started)

            if history.no_improvement_count > n_iter_no_change:
                if optimizer.on_plateau():
                    converged = True
                    break
                history.no_improvement_count = 0
            if incremental:
                converged = True
                break

    except KeyboardInterrupt:
        # as scikit-learn does, an interrupted fit keeps what it has learnt so far; it did
        # not run out of epochs, so no ConvergenceWarning follows this warning
        converged = True
        if not np.isfinite(params.flat).all():
            saved.restore()
        warnings.warn(
            f"Training interrupted by the user during epoch {history.n_iter + 1}; the "
            "parameters reached so far are kept.",
            UserWarning,
            stacklevel=2,
        )
    except TrainingDivergedError:
        raise  # the parameters to keep are in place
    except BaseException:
        saved.restore()  # whatever failed mid-epoch, leave no half-done epoch behind
        raise

    if validation is not None:
        params.flat[...] = best_params
    return converged


def _undo_diverged_epoch(what, history, saved, best_params, best_epoch):
    """Put back the parameters to keep after a diverging epoch; return the error to raise.

    Those are the epoch's starting parameters and optimizer state or, when early stopping
    has validated an epoch, that epoch's best parameters.
    """
    saved.restore()
    epoch = history.n_iter + 1
    if best_epoch is None:
        return _diverged(what, epoch, _STOCHASTIC_ADVICE)
    saved.params.flat[...] = best_params
    kept = (
        f"Early stopping kept the parameters of epoch {best_epoch}, which had the best "
        f"validation score ({history.best_validation_score:.6g})."
    )
    return _diverged(what, epoch, _STOCHASTIC_ADVICE, kept, recovered=True)


class _EpochStart:
    """The parameters and the optimizer's state at the start of an epoch, to go back to.

    ``save`` copies them into the same buffer every epoch (a pass over the parameters, small
    next to an epoch's batches); ``restore`` undoes everything the epoch did.
    """

    def __init__(self, params, optimizer):
        self.params, self.optimizer = params, optimizer
        self.flat = np.empty_like(params.flat)
        self.optimizer_state = None

    def save(self):
        self.flat[...] = self.params.flat
        self.optimizer_state = self.optimizer.state()

    def restore(self):
        self.params.flat[...] = self.flat
        self.optimizer.restore(self.optimizer_state)


def train_lbfgs(
    params, spec, X, Y, sample_weight, history, *, max_iter, max_fun, tol, verbose=False
):
    """Minimise the full-batch loss with SciPy's L-BFGS-B.

    The network is seen as a function of its flat parameter vector that returns the loss and
    its gradient; ``max_iter`` caps the iterations and ``max_fun`` the loss evaluations.
    ``history.loss_curve`` receives the loss after every iteration.

    Returns
    -------
    converged : bool
        True unless the iteration or evaluation cap was reached.
    """
    n_samples = Y.shape[0]
    workspace = Workspace(spec.layer_sizes, n_samples, params.flat.dtype)
    grads = params.zeros_like()
    start_flat = params.flat.copy()
    curve_length = len(history.loss_curve)

    def loss_and_flat_gradient(flat):
        params.flat[...] = flat
        loss = loss_and_gradient(params, spec, X, Y, sample_weight, workspace, grads)
        return loss, grads.flat.astype(np.float64)

    last_report = [time.perf_counter()]

    def record(intermediate_result):
        history.loss_curve.append(float(intermediate_result.fun))
        if verbose:
            now = time.perf_counter()
            print(
                f"Iteration {len(history.loss_curve)}, loss = {history.loss_curve[-1]:.8f}, "
                f"time = {now - last_report[0]:.4f}s"
            )
            last_report[0] = now

    with np.errstate(over="ignore", invalid="ignore"):
        result = scipy.optimize.minimize(
            loss_and_flat_gradient,
            params.flat.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=record,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
    params.flat[...] = result.x
    what = _what_diverged(float(result.fun), params, spec, X, _input_bound(X))
    if what is not None:
        params.flat[...] = start_flat
        del history.loss_curve[curve_length:]  # the curve matches the parameters kept
        raise _diverged(
            what, history.n_iter + max(int(result.nit), 1), _LBFGS_ADVICE,
            kept="The parameters it started from were kept.",
        )  # fmt: skip
    history.n_iter += int(result.nit)
    history.t += n_samples
    history.best_loss = min(history.best_loss, float(result.fun))
    return _lbfgs_converged(result, max_iter, max_fun, tol)


def _lbfgs_converged(result, max_iter, max_fun, tol):
    """Whether L-BFGS-B stopped because it converged rather than at one of its caps.

    SciPy may report convergence on the very evaluation that reaches ``max_fun``, and one
    evaluation past the cap; a run that used up either cap counts as converged only if its
    final gradient is below ``tol`` (L-BFGS-B's own test).
    """
    if np.max(np.abs(result.jac), initial=0.0) <= tol:
        return True
    at_cap = result.nit >= max_iter or result.nfev >= max_fun
    return result.status == 0 and not at_cap
