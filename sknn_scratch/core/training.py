"""The training loops (the tutorial's step 8, ``train_network``).

``train_stochastic`` is the tutorial's loop grown up, and reads as a list of what happens in
an epoch (``_run_epochs``): the hooks hear that it begins, the epoch runs (its batches, each
a forward pass, loss, backward pass and optimizer step, then a check that nothing diverged),
the :class:`TrainingHistory` records it, the stopping rule judges it, the schedule sets the
next learning rate, and the hooks hear that it ended. Each piece can be read and tested
alone: :class:`EpochPlan` (the call's epochs, batches, schedule and stopping rule),
:class:`NoImprovement` (a pure stopping rule), :class:`EarlyStopping` (held-out scores and
the best parameters), the divergence rollback (``_EpochStart``, ``_undo_diverged_epoch``)
and the :class:`EpochHook` s (the verbose line, scikit-learn's callbacks). Training returns
why it ended (:class:`Ending`). ``train_lbfgs`` hands the same loss and gradient
(:class:`~.network.Backpropagation`) to SciPy's L-BFGS-B instead.

A run whose loss or parameters stop being finite raises :class:`TrainingDivergedError`, after
putting back the parameters it had at the start of that epoch: no NaN is left behind.
"""

import copy
import enum
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .network import Backpropagation, forward_is_finite, predict_if_finite, total_weight
from .optimizers import ScheduleStep


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
    """The samples an epoch visits: inputs, encoded targets and (optional) weights.

    The targets are in the network's dtype, or, for a classifier's 0/1 indicator columns
    with NumPy, kept as ``uint8`` (an eighth of the memory of float64): each batch then gets
    its rows in the network's dtype (see :class:`_Batches`).
    """

    X: object
    Y: object
    sample_weight: object = None

    @property
    def n_samples(self) -> int:
        return self.Y.shape[0]

    def targets_in(self, dtype, kernels):
        """``Y`` in ``dtype`` (the network's): compact targets converted, others as they are."""
        return self.Y if self.Y.dtype == dtype else kernels.astype(self.Y, dtype)


@dataclass(frozen=True)
class EpochPlan:
    """How the epochs of one ``fit`` or ``partial_fit`` call run, built once per call.

    ``epochs`` is the most epochs this call runs (1 for ``partial_fit``); ``schedule`` the
    learning rate as a function of the step (:class:`~.optimizers.LearningRateSchedule`),
    which started at epoch ``schedule_start`` of the history: this call's first epoch for
    ``fit``, epoch 0 for ``partial_fit``, whose calls share one schedule; ``stopping`` the
    rule that ends training early (:class:`NoImprovement`).
    """

    epochs: int
    batch_size: int
    shuffle: bool
    rng: object
    schedule: object
    stopping: "NoImprovement"
    schedule_start: int = 0

    def learning_rate(self, history) -> float:
        """The learning rate of the epoch after ``history``."""
        epoch = history.n_iter - self.schedule_start
        # a schedule starts from no samples seen, as a new optimizer does in scikit-learn;
        # after its first epoch it counts every sample of the history
        seen = history.t if epoch > 0 else 0
        return self.schedule(ScheduleStep(epoch, seen, history.n_plateaus))


@dataclass(frozen=True)
class NoImprovement:
    """scikit-learn's stopping rule: stop (or lower an adaptive rate) once the loss, or the
    validation score, has not improved by ``tol`` for more than ``n_iter_no_change`` epochs
    in a row. Pure: it reads the count and the best value, and returns the new ones."""

    tol: float
    n_iter_no_change: float

    def judge_loss(self, count, best, loss) -> tuple:
        """``(count, best)`` after an epoch with training loss ``loss`` (lower is better)."""
        count = count + 1 if loss > best - self.tol else 0
        return count, min(best, loss)

    def judge_score(self, count, best, score) -> tuple:
        """``(count, best)`` after an epoch with validation score ``score`` (higher is
        better): with early stopping the held-out score decides."""
        count = count + 1 if score < best + self.tol else 0
        return count, max(best, score)

    def reached(self, count) -> bool:
        """Whether ``count`` epochs without improvement end training (or lower the rate)."""
        return count > self.n_iter_no_change


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
    largest_parameter = params.kernels.max_abs(params.flat)  # finite iff every parameter is
    if not math.isfinite(largest_parameter):
        return "parameters"
    if optimizer is not None and not optimizer.is_finite():
        return "optimizer's state (moments or velocity)"
    if not forward_is_finite(params, spec, X, x_max, largest_parameter):
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


class _Batches:
    """The batches of an epoch: rows gathered into reusable buffers (NumPy) or new arrays.

    Every batch's targets are in the network's ``dtype``: compact targets (see
    :class:`TrainingData`) are converted as their rows are gathered, or once for a full batch.
    They are gathered column by column, the order of the output layer's arrays (see
    :func:`.network.output_layer_array`), which the loss and its gradient combine them with
    element by element.
    """

    def __init__(self, data, batch_size, kernels, dtype):
        self.data, self.batch_size, self.kernels = data, batch_size, kernels
        self.x_buffer = self.y_buffer = None
        self.compact_targets = data.Y.dtype != dtype
        if batch_size < data.n_samples:
            self.x_buffer = kernels.row_buffer(data.X, batch_size)
            self.y_buffer = kernels.row_buffer(data.Y, batch_size, dtype, order="F")
        elif self.compact_targets:  # a full batch is the data itself, its targets converted
            self.data = TrainingData(data.X, data.targets_in(dtype, kernels), data.sample_weight)

    def __call__(self, order):
        """``(X, Y, sample_weight)`` of each batch, visiting the samples in ``order`` (a
        host permutation) or as they are (None)."""
        data, k = self.data, self.kernels
        X, Y, w = data.X, data.Y, data.sample_weight
        if order is None and self.batch_size >= data.n_samples:  # one batch: the data itself
            yield X, Y, w
            return
        if order is None and self.compact_targets:  # gathered, to convert the targets
            order = np.arange(data.n_samples)
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


def _descend(backprop, optimizer, batches) -> float:
    """One pass over ``batches``: forward, loss, backward and an optimizer step each.

    Returns the sum over batches of each batch's loss times its total sample weight, or NaN
    as soon as a loss is not finite (the caller then undoes the epoch).
    """
    params = backprop.params
    k = params.kernels
    loss_sum = 0.0
    for X, Y, sample_weight in batches:
        loss = backprop.loss_and_gradient(X, Y, sample_weight)
        if not k.known_finite(loss):
            return math.nan
        loss_sum += loss * total_weight(Y.shape[0], sample_weight, k)
        params.assign(optimizer.update(params.flat, backprop.grads.flat))
    return float(loss_sum)


class _StochasticEpoch:
    """One epoch of mini-batch descent over the training data, and how to undo it."""

    def __init__(self, params, spec, data, optimizer, plan):
        k, n_samples = params.kernels, data.n_samples
        self.data = TrainingData(_aligned(data.X), data.Y, data.sample_weight)
        self.n_samples = n_samples
        batch_size = min(plan.batch_size, n_samples)
        self.backprop = Backpropagation(params, spec, batch_size, plan.rng)
        self.optimizer = optimizer
        self.batches = _Batches(self.data, batch_size, k, params.flat.dtype)
        self.shuffle = plan.shuffle and batch_size < n_samples
        self.rng = plan.rng
        self.start = _EpochStart(params, optimizer)
        self.x_max = k.max_abs(self.data.X)
        self.total = float(total_weight(n_samples, self.data.sample_weight, k))

    def run(self, history, early):
        """Run the epoch after ``history``; return its mean loss and ``(validation loss,
        score)`` (Nones without early stopping). A diverging epoch is undone, and raises
        :class:`TrainingDivergedError`."""
        params, spec, n_samples = self.backprop.params, self.backprop.spec, self.n_samples
        order = self.rng.permutation(n_samples) if self.shuffle else None
        loss_sum = _descend(self.backprop, self.optimizer, self.batches(order))
        what = _what_diverged(loss_sum, params, spec, self.data.X, self.x_max, self.optimizer)
        scores = (None, None)
        if what is None and early is not None:
            scores = early.evaluate(params, spec) or (None, None)
            if scores[1] is None:
                what = "outputs on the validation data"
        if what is not None:
            raise _undo_diverged_epoch(what, history, self.start, early)
        return loss_sum / self.total, scores


class Ending(enum.Enum):
    """Why a training call ended."""

    RAN_OUT = "ran every epoch (L-BFGS: hit a cap) before the stopping rule was met"
    CONVERGED = "the stopping rule (L-BFGS: its own convergence test) was met"
    STOPPED = "a per-epoch hook (a callback) asked to stop"
    INTERRUPTED = "the user interrupted it (KeyboardInterrupt); what it learnt is kept"


@np.errstate(over="ignore", invalid="ignore")
def train_stochastic(params, spec, data, optimizer, history, plan, validation=None, hooks=()):
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
    ending : Ending
        Why training ended. A diverging epoch raises :class:`TrainingDivergedError` instead,
        after putting back the parameters to keep; any other error puts back those of the
        epoch's start.
    """
    epoch = _StochasticEpoch(params, spec, data, optimizer, plan)
    early = None if validation is None else EarlyStopping(validation, params, history)
    try:
        ending = _run_epochs(epoch, history, plan, early, hooks)
    except KeyboardInterrupt:
        # as scikit-learn does, an interrupted fit keeps what it has learnt so far
        if not params.kernels.all_finite(params.flat):
            epoch.start.restore()
        ending = Ending.INTERRUPTED
    except TrainingDivergedError:
        raise  # the parameters to keep are in place
    except BaseException:
        epoch.start.restore()  # whatever failed mid-epoch, leave no half-done epoch behind
        raise
    if early is not None:
        params.assign(early.best)
    return ending


def _run_epochs(epoch, history, plan, early, hooks) -> Ending:
    """The loop: per epoch, notify, run, record, judge, set the next rate, notify."""
    params, optimizer = epoch.backprop.params, epoch.optimizer
    optimizer.learning_rate = plan.learning_rate(history)
    for _ in range(plan.epochs):
        epoch.start.save()  # before the hooks: a hook that raises leaves this epoch to undo
        for hook in hooks:
            hook.epoch_begin(history)
        started = time.perf_counter()
        loss, scores = epoch.run(history, early)
        history.record(loss, epoch.n_samples, *scores)
        _judge_epoch(plan.stopping, history, scores[1], early, params)
        optimizer.learning_rate = plan.learning_rate(history)
        if hooks and _asked_to_stop(hooks, history, params, time.perf_counter() - started):
            return Ending.STOPPED
        if plan.stopping.reached(history.no_improvement_count):
            if not _lower_rate_on_plateau(plan, history, optimizer):
                return Ending.CONVERGED
    return Ending.RAN_OUT


def _judge_epoch(stopping, history, score, early, params) -> None:
    """Count the finished epoch as an improvement or not (by its validation ``score`` with
    early stopping, else by its training loss); early stopping keeps a new best."""
    count = history.no_improvement_count
    if score is None:
        count, history.best_loss = stopping.judge_loss(
            count, history.best_loss, history.loss_curve[-1]
        )
    else:
        new_best = score > history.best_validation_score
        count, history.best_validation_score = stopping.judge_score(
            count, history.best_validation_score, score
        )
        if new_best:
            early.keep(params, history.n_iter)
    history.no_improvement_count = count


def _lower_rate_on_plateau(plan, history, optimizer) -> bool:
    """At a plateau, divide an adaptive rate by 5 and go on (True), or end training."""
    if not plan.schedule.reduces_on_plateau(optimizer.learning_rate):
        return False
    history.n_plateaus += 1
    history.no_improvement_count = 0
    optimizer.learning_rate = plan.learning_rate(history)
    return True


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
        self.optimizer_state = self.optimizer.state(into=self.optimizer_state)

    def restore(self):
        self.params.assign(self.flat)
        self.optimizer.restore(self.optimizer_state)


class _LbfgsIterations:
    """SciPy's per-iteration callback for L-BFGS-B: it records each iteration's loss,
    prints it (``verbose``) and tells the hooks, one of which may end the run."""

    def __init__(self, params, history, hooks, verbose):
        self.params, self.history, self.hooks, self.verbose = params, history, hooks, verbose
        self.n_iter = history.n_iter  # iterations so far, counted over the whole history
        self.stopped = False
        self.last_report = time.perf_counter()

    def begin(self, history) -> None:
        for hook in self.hooks:
            hook.epoch_begin(history)

    def __call__(self, intermediate_result):
        curve = self.history.loss_curve
        curve.append(float(intermediate_result.fun))
        now = time.perf_counter()
        seconds, self.last_report = now - self.last_report, now
        if self.verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}, time = {seconds:.4f}s")
        if not self.hooks:
            return
        params = self.params
        params.assign(params.kernels.asarray(intermediate_result.x, params.flat.dtype))
        self.n_iter += 1
        seen = TrainingHistory(n_iter=self.n_iter, loss_curve=curve)
        if _asked_to_stop(self.hooks, seen, params, seconds):
            self.stopped = True
            raise StopIteration  # SciPy ends the run with status 99
        self.begin(seen)


def train_lbfgs(params, spec, data, history, *, max_iter, max_fun, tol, verbose=False, hooks=()):
    """Minimise the full-batch loss with SciPy's L-BFGS-B.

    The network is seen as a function of its flat parameter vector that returns the loss and
    its gradient; ``max_iter`` caps the iterations and ``max_fun`` the loss evaluations.
    ``history.loss_curve`` receives the loss after every iteration, and ``hooks`` are told
    when each iteration begins and ends (one that asks to stop ends the run). SciPy works on
    a NumPy float64 vector: with another array library, the vector goes to the device and
    the gradient comes back at every evaluation (as scikit-learn's LogisticRegression does).

    Returns
    -------
    ending : Ending
        ``CONVERGED`` unless the iteration or evaluation cap was reached (``RAN_OUT``) or a
        hook asked to stop (``STOPPED``).
    """
    k, dtype = params.kernels, params.flat.dtype
    backprop = Backpropagation(params, spec, data.n_samples)
    start_flat = k.snapshot(params.flat)
    curve_length = len(history.loss_curve)

    Y = data.targets_in(dtype, k)

    def loss_and_flat_gradient(flat):
        params.assign(k.asarray(flat, dtype))
        loss = backprop.loss_and_gradient(data.X, Y, data.sample_weight)
        return float(loss), k.to_numpy(backprop.grads.flat).astype(np.float64)

    iterations = _LbfgsIterations(params, history, hooks, verbose)
    iterations.begin(history)
    with np.errstate(over="ignore", invalid="ignore"):
        result = scipy.optimize.minimize(
            loss_and_flat_gradient,
            k.to_numpy(params.flat).astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=iterations,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
    params.assign(k.asarray(result.x, dtype))
    what = _what_diverged(float(result.fun), params, spec, data.X, k.max_abs(data.X))
    if what is not None:
        params.assign(start_flat)
        del history.loss_curve[curve_length:]  # the curve matches the parameters kept
        raise _diverged(
            what, history.n_iter + max(int(result.nit), 1), _LBFGS_ADVICE,
            kept="The parameters it started from were kept.",
        )  # fmt: skip
    history.n_iter += int(result.nit)
    history.t += data.n_samples
    history.best_loss = min(history.best_loss, float(result.fun))
    if iterations.stopped:
        return Ending.STOPPED
    if _lbfgs_converged(result, max_iter, max_fun, tol):
        return Ending.CONVERGED
    return Ending.RAN_OUT


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
