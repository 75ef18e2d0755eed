"""Optimizers: how a gradient becomes a parameter update (the tutorial's step 7).

Each optimizer updates the flat parameter vector in place with a few whole-array operations,
and keeps its own state (velocity, moment estimates, the current learning rate). The
tutorial's ``update_parameters`` is ``SGD(learning_rate, momentum=0)``: ``params -= lr * grad``
(the tutorial adds ``lr * (y - p)``-based terms, which is the same step with the sign folded
into the gradient).
"""

import math
from dataclasses import dataclass

import numpy as np

from . import fused


@dataclass(frozen=True)
class LearningRateSchedule:
    """How the learning rate changes from epoch to epoch, for every optimizer.

    ``"constant"`` keeps it; ``"invscaling"`` is ``lr / (t + 1) ** power_t`` with ``t`` the
    samples seen so far (scikit-learn's rule); ``"cosine"`` warms up linearly over
    ``warmup_epochs`` (``lr * (e + 1) / (warmup_epochs + 1)`` in epoch ``e``), then decays as
    ``lr * (1 + cos(pi * progress)) / 2`` to zero at ``epochs``; ``"adaptive"`` divides it by
    5 each time the loss stops improving (:meth:`Optimizer.on_plateau`), the one schedule
    that is not a function of the step alone.

    ``first_epoch`` is the epoch count at which the schedule starts: the epochs a
    warm-started ``fit`` continues from, so that its cosine runs over its own ``epochs``.
    """

    kind: str = "constant"
    power_t: float = 0.5
    epochs: int = 200
    warmup_epochs: int = 0
    first_epoch: int = 0

    def rate(self, base_rate, epoch, n_samples_seen) -> float:
        """The learning rate of epoch ``epoch`` (counted from 0 over the whole history)."""
        if self.kind == "invscaling":
            return base_rate / (n_samples_seen + 1) ** self.power_t
        if self.kind == "cosine":
            return base_rate * self._cosine_factor(epoch - self.first_epoch)
        return base_rate  # "constant", and "adaptive" between plateaus

    def _cosine_factor(self, e) -> float:
        if e < self.warmup_epochs:
            return (e + 1) / (self.warmup_epochs + 1)
        decay_epochs = max(self.epochs - self.warmup_epochs, 1)
        progress = min((e - self.warmup_epochs) / decay_epochs, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


def clip_by_global_norm(grad, max_norm) -> None:
    """Scale ``grad`` in place so that its L2 norm is at most ``max_norm``.

    The norm is over every parameter at once (the "global" norm), so the step keeps its
    direction and only its length is limited: a batch with an exploding gradient moves the
    parameters by at most ``learning_rate * max_norm`` with plain SGD.
    """
    with np.errstate(over="ignore"):
        norm = math.sqrt(float(grad @ grad))
    if math.isinf(norm):  # the squares overflowed: measure the gradient divided by its max
        largest = float(np.abs(grad).max())
        if math.isfinite(largest):
            scaled = grad.astype(np.float64) / largest
            norm = largest * math.sqrt(float(scaled @ scaled))
    if norm > max_norm:  # False for a NaN norm: the divergence check then sees the NaN
        grad *= max_norm / norm


class Optimizer:
    """Common interface: ``step`` per batch, ``end_epoch`` and ``on_plateau`` per epoch.

    What an optimizer has learnt (its ``_state`` attributes: velocity, moments, step count,
    the current learning rate) can be saved with ``state`` and put back with ``restore``, so
    that a diverging epoch can be undone completely, and carried into an optimizer built with
    new hyper-parameters with ``resume_from``.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    learning_rate : float
        Initial step size.
    dtype : numpy dtype
        Dtype of the parameters (the optimizer's state uses the same).
    schedule : LearningRateSchedule, optional
        How the learning rate changes between epochs; constant if omitted.
    max_grad_norm : float, optional
        Clip each batch's gradient to this global L2 norm before the update (see
        :meth:`update`); no clipping if omitted.
    """

    def __init__(
        self, n_params, learning_rate, dtype=np.float64, schedule=None, max_grad_norm=None
    ):
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        # Every hyper-parameter is kept as a Python float, never a NumPy scalar: multiplying a
        # float32 array in place by a NumPy float64 scalar runs in float64 and casts back, which
        # was measured 7x slower than by a Python float.
        self.learning_rate_init = float(learning_rate)
        self.schedule = LearningRateSchedule() if schedule is None else schedule
        # what the schedule scales: the initial rate, divided by 5 at each "adaptive" plateau
        self.base_rate = float(learning_rate)
        self.learning_rate = self.schedule.rate(
            self.base_rate, self.schedule.first_epoch, n_samples_seen=0
        )
        self.n_params, self.dtype = n_params, np.dtype(dtype)

    _state: tuple = ("learning_rate", "base_rate")

    def state(self) -> dict:
        """A copy of what this optimizer has learnt, for :meth:`restore`."""
        return {name: np.copy(getattr(self, name)) for name in self._state}

    def restore(self, state: dict) -> None:
        """Put back a :meth:`state`; arrays are copied into the existing ones."""
        for name, value in state.items():
            current = getattr(self, name)
            if isinstance(current, np.ndarray):
                current[...] = value
            else:
                setattr(self, name, type(current)(value))

    def is_finite(self) -> bool:
        """Whether every number of the state is finite (Adam's squared gradients can overflow
        while the parameters stay finite, and would then freeze them for good)."""
        return all(np.isfinite(getattr(self, name)).all() for name in self._state)

    def resume_from(self, previous: "Optimizer") -> None:
        """Continue where ``previous`` (of the same class and size) stopped.

        Its velocity or moments carry over, and so does its current learning rate unless
        the initial learning rate has changed since (``set_params(learning_rate=...)`` between
        two ``partial_fit`` calls then takes effect at once). ``previous`` is not modified.
        """
        state = previous.state()
        if previous.learning_rate_init != self.learning_rate_init:
            state.pop("learning_rate")
            state.pop("base_rate")
        self.restore(state)

    def fits(self, params: np.ndarray) -> bool:
        """Whether this optimizer's state matches ``params`` (size and dtype)."""
        return params.shape == (self.n_params,) and params.dtype == self.dtype

    def update(self, params: np.ndarray, grad: np.ndarray) -> None:
        """One batch's update: clip the gradient (with ``max_grad_norm``), then :meth:`step`."""
        if self.max_grad_norm is not None:
            clip_by_global_norm(grad, self.max_grad_norm)
        self.step(params, grad)

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """Update ``params`` in place; ``grad`` may be overwritten."""
        raise NotImplementedError

    def end_epoch(self, epochs_done: int, n_samples_seen: int) -> None:
        """Set the learning rate of the next epoch (after ``epochs_done`` epochs in all)."""
        self.learning_rate = self.schedule.rate(self.base_rate, epochs_done, n_samples_seen)

    def on_plateau(self) -> bool:
        """Called when the loss stopped improving; returns True if training should stop.

        With the ``"adaptive"`` schedule the rate is divided by 5 instead, until it falls to
        1e-6 or below.
        """
        if self.schedule.kind != "adaptive" or self.learning_rate <= 1e-6:
            return True
        self.base_rate /= 5.0
        self.learning_rate = self.base_rate
        return False


class SGD(Optimizer):
    """Stochastic gradient descent with momentum.

    ``velocity = momentum * velocity - lr * grad`` then ``params += velocity``; with Nesterov's
    momentum ``params += momentum * velocity - lr * grad`` instead.

    Parameters
    ----------
    n_params, learning_rate, dtype, schedule, max_grad_norm
        See :class:`Optimizer`.
    momentum : float, default=0.9
    nesterov : bool, default=True
    """

    def __init__(
        self, n_params, learning_rate, dtype=np.float64, schedule=None, max_grad_norm=None,
        momentum=0.9, nesterov=True,
    ):  # fmt: skip
        super().__init__(n_params, learning_rate, dtype, schedule, max_grad_norm)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = np.zeros(n_params, dtype=dtype)

    _state = (*Optimizer._state, "velocity")

    def step(self, params, grad):
        if self.momentum == 0:
            grad *= self.learning_rate
            params -= grad  # the tutorial's update_parameters
        elif fused.ENABLED:
            cast = params.dtype.type  # the arithmetic stays in the parameters' dtype
            fused.sgd_update(
                params, grad, self.velocity,
                cast(self.learning_rate), cast(self.momentum), self.nesterov,
            )  # fmt: skip
        else:
            self._numpy_step(params, grad)

    def _numpy_step(self, params, grad):
        # every operation is in place, and the spent gradient serves as scratch space;
        # fused.sgd_update makes the same operations in one pass
        grad *= self.learning_rate  # grad now holds lr * grad
        self.velocity *= self.momentum
        self.velocity -= grad  # velocity = momentum * velocity - lr * grad
        if self.nesterov:  # params += momentum * velocity - lr * grad
            params -= grad
            np.multiply(self.velocity, self.momentum, out=grad)
            params += grad
        else:
            params += self.velocity


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014): steps scaled by running moments of the gradient.

    ``m = beta_1 m + (1 - beta_1) g``, ``v = beta_2 v + (1 - beta_2) g**2`` and
    ``params -= lr_t * m / (sqrt(v) + epsilon)`` with the bias-corrected step
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.

    Parameters
    ----------
    n_params, learning_rate, dtype, schedule, max_grad_norm
        See :class:`Optimizer`.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Keeps the division finite.
    """

    def __init__(
        self, n_params, learning_rate, dtype=np.float64, schedule=None, max_grad_norm=None,
        beta_1=0.9, beta_2=0.999, epsilon=1e-8,
    ):  # fmt: skip
        super().__init__(n_params, learning_rate, dtype, schedule, max_grad_norm)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        # The moments are stored divided by (1 - beta): m / (1 - beta_1) = beta_1 * (its
        # previous value) + g, so each update is two in-place passes over memory with no
        # temporary array (the factors (1 - beta) are put back in the step's constants).
        self.m_scaled = np.zeros(n_params, dtype=dtype)
        self.v_scaled = np.zeros(n_params, dtype=dtype)

    _state = (*Optimizer._state, "t", "m_scaled", "v_scaled")

    def step(self, params, grad):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # params -= lr_t * m / (sqrt(v) + epsilon), written with the scaled moments:
        # lr_t (1 - b1) / sqrt(1 - b2) * m_scaled / (sqrt(v_scaled) + epsilon / sqrt(1 - b2)).
        # math, not np: a NumPy float64 scalar would make float32 arithmetic run in float64.
        root = math.sqrt(1 - b2)
        lr_t = self.learning_rate * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        eps_scaled, step_scale = self.epsilon / root, lr_t * (1 - b1) / root
        if fused.ENABLED:
            cast = params.dtype.type  # the arithmetic stays in the parameters' dtype
            fused.adam_update(
                params, grad, self.m_scaled, self.v_scaled,
                cast(b1), cast(b2), cast(eps_scaled), cast(step_scale),
            )  # fmt: skip
        else:
            self._numpy_step(params, grad, eps_scaled, step_scale)

    def _numpy_step(self, params, grad, eps_scaled, step_scale):
        # ten whole-array passes; fused.adam_update makes the same operations in one
        self.m_scaled *= self.beta_1
        self.m_scaled += grad
        grad *= grad
        self.v_scaled *= self.beta_2
        self.v_scaled += grad
        step = grad  # grad is spent: it holds the step, so no scratch vector is needed
        np.sqrt(self.v_scaled, out=step)
        step += eps_scaled
        np.divide(self.m_scaled, step, out=step)
        step *= step_scale
        params -= step


def make_optimizer(solver, n_params, dtype, **options) -> Optimizer:
    """Build the optimizer called ``solver`` (``"sgd"`` or ``"adam"``) with its options."""
    if solver == "sgd":
        keys = ("schedule", "max_grad_norm", "momentum", "nesterov")
        cls = SGD
    elif solver == "adam":
        keys = ("schedule", "max_grad_norm", "beta_1", "beta_2", "epsilon")
        cls = Adam
    else:
        raise ValueError(f"Unknown solver {solver!r}; expected 'sgd' or 'adam'.")
    kwargs = {k: options[k] for k in keys if k in options}
    return cls(n_params, options["learning_rate"], dtype=dtype, **kwargs)
