"""The training loops (the tutorial's step 8, ``train_network``).

``train_stochastic`` is the tutorial's loop grown up. Per epoch it sets the learning rate
from the schedule, visits the batches (forward, loss, backward, optimizer step), checks that
nothing diverged, records the epoch in the :class:`TrainingHistory`, and asks the small
pieces around it what follows: :class:`EarlyStopping` scores the held-out data and keeps the
best parameters, :class:`NoImprovement` decides when the loss (or score) has stopped
improving, and the per-epoch hooks (the verbose line, callbacks) see every finished epoch.
``train_lbfgs`` hands the same loss and gradient to SciPy's L-BFGS-B instead.

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

from .network import (
    Dropout,
    Workspace,
    forward_is_finite,
    loss_and_gradient,
    predict_if_finite,
    total_weight,
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
    """What training has done so far; carried over by ``partial_fit`` and ``warm_start``.

    ``call_start`` is ``n_iter`` when the current ``fit`` or ``partial_fit`` call began;
    ``n_plateaus`` counts the plateaus the ``"adaptive"`` schedule has divided the rate at;
    ``validated`` says whether the curves include held-out scores (early stopping).
    """

    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    best_loss: float = math.inf
    no_improvement_count: int = 0
    validation_scores: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    best_validation_score: float = -math.inf
    n_plateaus: int = 0
    call_start: int = 0
    validated: bool = False

    def copy(self) -> "TrainingHistory":
        """An independent copy (a failed fit then leaves the original untouched)."""
        return copy.deepcopy(self)

    def record(self, loss, n_samples, validation_loss=None, score=None) -> None:
        """Count a finished epoch over ``n_samples`` samples, with its losses and score."""
        self.n_iter += 1
        self.t += n_samples
        self.loss_curve.append(loss)
        if score is not None:
            self.validation_loss_curve.append(validation_loss)
            self.validation_scores.append(score)


@dataclass
class TrainingData:
    """The samples an epoch visits: inputs, encoded targets and (optional) weights."""

    X: object
    Y: object
    sample_weight: object = None

    @property
    def n_samples(self) -> int:
        return self.Y.shape[0]


@dataclass(frozen=True)
class EpochPlan:
    """How the epochs of one ``fit`` or ``partial_fit`` call run.

    ``epochs`` is the most epochs this call runs (1 for ``partial_fit``); ``learning_rate``
    the initial rate that ``schedule`` scales; ``stopping`` the rule that ends training
    early (:class:`NoImprovement`). ``restart_schedule`` is True for ``fit``: its
    first epoch runs at the schedule's rate for no samples seen (a fresh inverse scaling, as
    scikit-learn's fit does), while ``partial_fit`` calls continue one schedule.
    """

    epochs: int
    batch_size: int
    shuffle: bool
    rng: object
    schedule: object
    learning_rate: float
    stopping: "NoImprovement"
    restart_schedule: bool = True

    def rate(self, history, first=False) -> float:
        """The learning rate of the epoch after ``history`` (``first``: this call's first)."""
        seen = 0 if first and self.restart_schedule else history.t
        epoch = self.schedule.first_epoch if first and self.restart_schedule else history.n_iter
        return self.schedule.rate(self.learning_rate, epoch, seen, history.n_plateaus)


@dataclass(frozen=True)
class NoImprovement:
    """scikit-learn's stopping rule: stop (or lower an adaptive rate) once the loss, or the
    validation score, has not improved by ``tol`` for more than ``n_iter_no_change`` epochs
    in a row."""

    tol: float
    n_iter_no_change: float

    def update(self, history, loss, score=None) -> bool:
        """Count the epoch as an improvement or not; True when ``score`` is a new best.

        With early stopping (a ``score``), an epoch counts as "no improvement" unless the
        validation score beat the best by ``tol``; otherwise the training loss decides.
        """
        if score is not None:
            if score < history.best_validation_score + self.tol:
                history.no_improvement_count += 1
            else:
                history.no_improvement_count = 0
            if score > history.best_validation_score:
                history.best_validation_score = score
                return True
            return False
        if loss > history.best_loss - self.tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        history.best_loss = min(history.best_loss, loss)
        return False

    def reached(self, history) -> bool:
        return history.no_improvement_count > self.n_iter_no_change


@dataclass
class Validation:
    """Held-out data for early stopping.

    ``score`` maps the network's outputs on ``X`` to a number where higher is better (the
    estimator passes accuracy or R²).
    """

    X: object
    Y: object
    sample_weight: object
    score: object


class EarlyStopping:
    """Scores the held-out data after each epoch and keeps the best parameters.

    ``best_epoch`` is the epoch whose parameters it holds (with ``warm_start``, the previous
    fit's best, which are the starting parameters), or None before any.
    """

    def __init__(self, validation, params, history):
        self.validation = validation
        self.best = params.kernels.snapshot(params.flat)
        self.best_epoch = history.n_iter if history.validation_scores else None

    def evaluate(self, params, spec):
        """``(loss, score)`` on the held-out data, or None when its outputs or loss there are
        not finite (the training data's were)."""
        validation = self.validation
        result = predict_if_finite(params, spec, validation.X, return_logits=True)
        if result is None:
            return None
        outputs, logits = result
        k = params.kernels
        loss = float(spec.loss.value(k, validation.Y, logits, outputs, validation.sample_weight))
        if not math.isfinite(loss):
            return None
        return loss, float(validation.score(outputs))

    def keep(self, params, epoch) -> None:
        """Remember ``params``, the best so far, reached at ``epoch``."""
        self.best = params.kernels.assign(self.best, params.flat)
        self.best_epoch = epoch


class EpochHook:
    """What the training loops tell the outside world, epoch by epoch.

    ``train_stochastic`` calls :meth:`epoch_begin` before each epoch and :meth:`epoch_end`
    after each finished one; ``train_lbfgs`` does the same around each L-BFGS iteration.
    The verbose line is one hook; the estimators' bridge to scikit-learn's callbacks is
    another. Subclasses override what they need.
    """

    def epoch_begin(self, history) -> None:
        """An epoch is about to run, after the ``history.n_iter`` finished ones."""

    def epoch_end(self, history, params, seconds) -> bool:
        """An epoch finished (``history`` records it; ``params`` are the parameters after
        it) in ``seconds``. Returning True ends training after this epoch."""
        return False


class PrintEpochs(EpochHook):
    """``verbose``: a line per finished epoch, as the tutorial's loop prints its loss."""

    def epoch_end(self, history, params, seconds) -> bool:
        line = f"Epoch {history.n_iter}, loss = {history.loss_curve[-1]:.8f}"
        if history.validated:
            line += (
                f", validation loss = {history.validation_loss_curve[-1]:.8f}"
                f", validation score = {history.validation_scores[-1]:.6f}"
            )
        print(f"{line}, time = {seconds:.4f}s")
        return False


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


def _what_diverged(loss, params, spec, X, x_max, optimizer=None):
    """What is no longer finite after an epoch (loss, parameters, optimizer or outputs), or None.

    The forward pass on the training data is checked too: the loss is measured on each batch
    before its step, so the parameters left by the last step could still make the network
    overflow (finite weights, infinite predictions) without the loss ever showing it.
    """
    if not math.isfinite(loss):
        return "loss"
    if not params.kernels.all_finite(params.flat):
        return "parameters"
    if optimizer is not None and not optimizer.is_finite():
        return "optimizer's state (moments or velocity)"
    if not forward_is_finite(params, spec, X, x_max):
        return "network's values on the training data"
    return None


def _aligned(array):
    """``array`` itself, or an aligned copy when its data is not aligned to its item size.

    Arrays built on a foreign buffer at an offset (``np.frombuffer``, shared memory from Dask or
    Ray) can be misaligned, and NumPy then gathers rows by copying the whole array first: a
    copy per batch instead of one per fit (``benchmarks/alignment.py`` measures it). Arrays of
    other libraries are returned as they are.
    """
    if sp.issparse(array):
        if not array.data.flags.aligned:
            array = array.copy()
        return array
    if not isinstance(array, np.ndarray):
        return array
    return array if array.flags.aligned else np.require(array, requirements="A")


def _row_buffer(array, n_rows):
    """An empty buffer for ``n_rows`` rows of the dense ``array``, in the same memory order."""
    order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
    return np.empty((n_rows, array.shape[1]), dtype=array.dtype, order=order)


class _Batches:
    """The batches of an epoch: rows gathered into reusable buffers (NumPy) or new arrays."""

    def __init__(self, data, batch_size, kernels):
        self.data, self.batch_size, self.kernels = data, batch_size, kernels
        self.x_buffer = self.y_buffer = None
        if kernels.in_place and batch_size < data.n_samples:
            self.y_buffer = _row_buffer(data.Y, batch_size)
            if not sp.issparse(data.X):
                self.x_buffer = _row_buffer(data.X, batch_size)

    def __call__(self, order):
        """``(X, Y, sample_weight)`` of each batch, visiting the samples in ``order`` (a
        host permutation) or as they are (None)."""
        data, k = self.data, self.kernels
        X, Y, w = data.X, data.Y, data.sample_weight
        index = None if order is None else k.row_index(order)
        for start in range(0, data.n_samples, self.batch_size):
            stop = min(start + self.batch_size, data.n_samples)
            if index is None:
                rows = (k.slice_rows(a, start, stop) for a in (X, Y))
                yield (*rows, None if w is None else w[start:stop])
                continue
            rows = index[start:stop]
            yield (
                k.take_rows(X, rows, self.x_buffer),
                k.take_rows(Y, rows, self.y_buffer),
                None if w is None else k.take(w, rows),
            )


def _descend_one_epoch(params, spec, batches, order, optimizer, workspace, grads, dropout):
    """One pass over the data, batch by batch: forward, loss, backward, optimizer step.

    Returns the sum over batches of each batch's loss times its total sample weight, or NaN
    as soon as a loss is not finite (the caller then restores the parameters).
    """
    k = params.kernels
    loss_sum = 0.0
    for X, Y, sample_weight in batches(order):
        n_rows = Y.shape[0]
        masks = None if dropout is None else dropout.draw(n_rows)
        loss = loss_and_gradient(params, spec, X, Y, sample_weight, workspace, grads, masks)
        if not k.known_finite(loss):
            return math.nan
        loss_sum += loss * total_weight(n_rows, sample_weight, k)
        params.assign(optimizer.update(params.flat, grads.flat))
    return float(loss_sum)


@np.errstate(over="ignore", invalid="ignore")
def train_stochastic(
    params, spec, data, optimizer, history, plan, validation=None, hooks=()
):  # fmt: skip
    """Mini-batch (or full-batch) gradient descent with ``optimizer``.

    Parameters
    ----------
    params : Parameters
        Updated in place (NumPy) or given new vectors.
    spec : NetworkSpec
    data : TrainingData
    optimizer : Optimizer
    history : TrainingHistory
        Updated in place: epoch count, loss curve, validation curves, convergence state.
    plan : EpochPlan
        The epochs, batches, shuffling, learning-rate schedule and stopping rule of this
        call.
    validation : Validation, optional
        Held-out data for early stopping; the best parameters are restored at the end.
    hooks : sequence of EpochHook
        Told when each epoch begins and ends (the verbose line, scikit-learn's callbacks);
        a hook whose ``epoch_end`` returns True ends training.

    Returns
    -------
    stopped : bool
        True if training stopped before running out of epochs (the stopping rule, a hook or
        the user's interrupt), False if it ran every epoch.
    """
    n_samples = data.n_samples
    data = TrainingData(_aligned(data.X), data.Y, data.sample_weight)
    batch_size = min(plan.batch_size, n_samples)
    k = params.kernels
    workspace = Workspace(spec.layer_sizes, batch_size, params.flat.dtype, kernels=k)
    grads = params.zeros_like()
    batches = _Batches(data, batch_size, k)
    shuffle = plan.shuffle and batch_size < n_samples
    saved = _EpochStart(params, optimizer)
    dropout = None
    if spec.dropout > 0:
        host_dtype = k.host_dtype(params.flat.dtype)  # the masks are drawn on the host
        dropout = Dropout(spec.dropout, spec.layer_sizes, batch_size, host_dtype, plan.rng, k)
    x_max = k.max_abs(data.X)
    early = None if validation is None else EarlyStopping(validation, params, history)
    total = float(total_weight(n_samples, data.sample_weight, k))
    stopping = plan.stopping

    optimizer.learning_rate = plan.rate(history, first=True)
    stopped = False
    try:
        for _ in range(plan.epochs):
            saved.save()  # before the hooks: a hook that raises leaves this epoch to undo
            for hook in hooks:
                hook.epoch_begin(history)
            started = time.perf_counter()
            order = plan.rng.permutation(n_samples) if shuffle else None
            loss_sum = _descend_one_epoch(
                params, spec, batches, order, optimizer, workspace, grads, dropout
            )
            what = _what_diverged(loss_sum, params, spec, data.X, x_max, optimizer)
            scores = (None, None)
            if what is None and early is not None:
                scores = early.evaluate(params, spec) or (None, None)
                if scores[1] is None:
                    what = "outputs on the validation data"
            if what is not None:
                raise _undo_diverged_epoch(what, history, saved, early)

            history.record(loss_sum / total, n_samples, *scores)
            if stopping.update(history, history.loss_curve[-1], scores[1]):
                early.keep(params, history.n_iter)
            optimizer.learning_rate = plan.rate(history)
            seconds = time.perf_counter() - started
            if _asked_to_stop(hooks, history, params, seconds):
                stopped = True
                break
            if stopping.reached(history):
                if not plan.schedule.reduces_on_plateau(optimizer.learning_rate):
                    stopped = True
                    break
                history.n_plateaus += 1
                history.no_improvement_count = 0
                optimizer.learning_rate = plan.rate(history)

    except KeyboardInterrupt:
        # as scikit-learn does, an interrupted fit keeps what it has learnt so far; it did
        # not run out of epochs, so no ConvergenceWarning follows this warning
        stopped = True
        if not k.all_finite(params.flat):
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

    if early is not None:
        params.assign(early.best)
    return stopped


def _asked_to_stop(hooks, history, params, seconds) -> bool:
    """Tell every hook that the epoch ended; whether any of them asks to stop."""
    answers = [hook.epoch_end(history, params, seconds) for hook in hooks]
    return any(bool(answer) for answer in answers)


def _undo_diverged_epoch(what, history, saved, early):
    """Put back the parameters to keep after a diverging epoch; return the error to raise.

    Those are the epoch's starting parameters and optimizer state or, when early stopping
    has validated an epoch, that epoch's best parameters.
    """
    saved.restore()
    epoch = history.n_iter + 1
    if early is None or early.best_epoch is None:
        return _diverged(what, epoch, _STOCHASTIC_ADVICE)
    saved.params.assign(early.best)
    kept = (
        f"Early stopping kept the parameters of epoch {early.best_epoch}, which had the best "
        f"validation score ({history.best_validation_score:.6g})."
    )
    return _diverged(what, epoch, _STOCHASTIC_ADVICE, kept, recovered=True)


class _EpochStart:
    """The parameters and the optimizer's state at the start of an epoch, to go back to.

    ``save`` copies them every epoch (a pass over the parameters, small next to an epoch's
    batches); ``restore`` undoes everything the epoch did.
    """

    def __init__(self, params, optimizer):
        self.params, self.optimizer = params, optimizer
        self.flat = self.optimizer_state = None

    def save(self):
        k, flat = self.params.kernels, self.params.flat
        # NumPy copies into the same buffer every epoch; the functional kernels keep a
        # reference, since they never modify an array
        self.flat = k.snapshot(flat) if self.flat is None else k.assign(self.flat, flat)
        self.optimizer_state = self.optimizer.state()

    def restore(self):
        self.params.assign(self.flat)
        self.optimizer.restore(self.optimizer_state)


def train_lbfgs(params, spec, data, history, *, max_iter, max_fun, tol, verbose=False, hooks=()):
    """Minimise the full-batch loss with SciPy's L-BFGS-B.

    The network is seen as a function of its flat parameter vector that returns the loss and
    its gradient; ``max_iter`` caps the iterations and ``max_fun`` the loss evaluations.
    ``history.loss_curve`` receives the loss after every iteration, and ``hooks`` are told
    when each iteration begins and ends (one that asks to stop ends the run, which then
    counts as converged: it did not run out of iterations). SciPy works on a NumPy
    float64 vector: with another array library, the vector goes to the device and the
    gradient comes back at every evaluation (as scikit-learn's LogisticRegression does).

    Returns
    -------
    converged : bool
        True unless the iteration or evaluation cap was reached.
    """
    k = params.kernels
    n_samples = data.n_samples
    dtype = params.flat.dtype
    workspace = Workspace(spec.layer_sizes, n_samples, dtype, kernels=k)
    grads = params.zeros_like()
    start_flat = k.snapshot(params.flat)
    curve_length = len(history.loss_curve)

    def to_params(flat):
        return k.asarray(flat, dtype)

    def loss_and_flat_gradient(flat):
        params.assign(to_params(flat))
        loss = loss_and_gradient(
            params, spec, data.X, data.Y, data.sample_weight, workspace, grads
        )
        return float(loss), k.to_numpy(grads.flat).astype(np.float64)

    last_report = [time.perf_counter()]
    iterations = [history.n_iter]  # the iterations so far, counted over the whole history
    stopped = []

    def record(intermediate_result):
        history.loss_curve.append(float(intermediate_result.fun))
        now = time.perf_counter()
        if verbose:
            print(
                f"Iteration {len(history.loss_curve)}, loss = {history.loss_curve[-1]:.8f}, "
                f"time = {now - last_report[0]:.4f}s"
            )
        if hooks:
            params.assign(to_params(intermediate_result.x))  # the iteration's parameters
            iterations[0] += 1
            seen = TrainingHistory(n_iter=iterations[0], loss_curve=history.loss_curve)
            if _asked_to_stop(hooks, seen, params, now - last_report[0]):
                stopped.append(True)
                raise StopIteration  # SciPy ends the run with status 99
            for hook in hooks:
                hook.epoch_begin(seen)
        last_report[0] = now

    for hook in hooks:
        hook.epoch_begin(history)

    with np.errstate(over="ignore", invalid="ignore"):
        result = scipy.optimize.minimize(
            loss_and_flat_gradient,
            k.to_numpy(params.flat).astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=record,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
    params.assign(to_params(result.x))
    what = _what_diverged(float(result.fun), params, spec, data.X, k.max_abs(data.X))
    if what is not None:
        params.assign(start_flat)
        del history.loss_curve[curve_length:]  # the curve matches the parameters kept
        raise _diverged(
            what, history.n_iter + max(int(result.nit), 1), _LBFGS_ADVICE,
            kept="The parameters it started from were kept.",
        )  # fmt: skip
    history.n_iter += int(result.nit)
    history.t += n_samples
    history.best_loss = min(history.best_loss, float(result.fun))
    return bool(stopped) or _lbfgs_converged(result, max_iter, max_fun, tol)


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
