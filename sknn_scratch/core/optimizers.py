"""Optimizers: how a gradient becomes a parameter update (the tutorial's step 7).

Each optimizer updates the flat parameter vector in place with a few whole-array operations,
and keeps its own state (velocity, moment estimates, the current learning rate). The
tutorial's ``update_parameters`` is ``SGD(learning_rate, momentum=0)``: ``params -= lr * grad``
(the tutorial adds ``lr * (y - p)``-based terms, which is the same step with the sign folded
into the gradient).
"""

import math

import numpy as np

from . import fused


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
    """

    def __init__(self, n_params, learning_rate, dtype=np.float64):
        # Every hyper-parameter is kept as a Python float, never a NumPy scalar: multiplying a
        # float32 array in place by a NumPy float64 scalar runs in float64 and casts back, which
        # was measured 7x slower than by a Python float.
        self.learning_rate_init = float(learning_rate)
        self.learning_rate = float(learning_rate)
        self.n_params, self.dtype = n_params, np.dtype(dtype)

    _state: tuple = ("learning_rate",)

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
        self.restore(state)

    def fits(self, params: np.ndarray) -> bool:
        """Whether this optimizer's state matches ``params`` (size and dtype)."""
        return params.shape == (self.n_params,) and params.dtype == self.dtype

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """Update ``params`` in place; ``grad`` may be overwritten."""
        raise NotImplementedError

    def end_epoch(self, n_samples_seen: int) -> None:
        """Called after every epoch with the number of samples seen so far (``t_``)."""

    def on_plateau(self) -> bool:
        """Called when the loss stopped improving; returns True if training should stop."""
        return True


class SGD(Optimizer):
    """Stochastic gradient descent with momentum and a learning-rate schedule.

    ``velocity = momentum * velocity - lr * grad`` then ``params += velocity``; with Nesterov's
    momentum ``params += momentum * velocity - lr * grad`` instead.

    Parameters
    ----------
    n_params, learning_rate, dtype
        See :class:`Optimizer`.
    momentum : float, default=0.9
    nesterov : bool, default=True
    schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        ``"invscaling"``: ``lr = learning_rate / (t + 1) ** power_t`` after each epoch, ``t``
        being the number of samples seen. ``"adaptive"``: ``lr`` is divided by 5 each time
        the loss stops improving, and training stops once it falls below 1e-6.
    power_t : float, default=0.5
    """

    def __init__(
        self,
        n_params,
        learning_rate,
        dtype=np.float64,
        momentum=0.9,
        nesterov=True,
        schedule="constant",
        power_t=0.5,
    ):
        super().__init__(n_params, learning_rate, dtype)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.schedule = schedule
        self.power_t = float(power_t)
        self.velocity = np.zeros(n_params, dtype=dtype)

    _state = ("learning_rate", "velocity")

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

    def end_epoch(self, n_samples_seen):
        if self.schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (n_samples_seen + 1) ** self.power_t

    def on_plateau(self):
        if self.schedule != "adaptive" or self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        return False


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014): steps scaled by running moments of the gradient.

    ``m = beta_1 m + (1 - beta_1) g``, ``v = beta_2 v + (1 - beta_2) g**2`` and
    ``params -= lr_t * m / (sqrt(v) + epsilon)`` with the bias-corrected step
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.

    Parameters
    ----------
    n_params, learning_rate, dtype
        See :class:`Optimizer`.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Keeps the division finite.
    """

    def __init__(
        self, n_params, learning_rate, dtype=np.float64, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        super().__init__(n_params, learning_rate, dtype)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        # The moments are stored divided by (1 - beta): m / (1 - beta_1) = beta_1 * (its
        # previous value) + g, so each update is two in-place passes over memory with no
        # temporary array (the factors (1 - beta) are put back in the step's constants).
        self.m_scaled = np.zeros(n_params, dtype=dtype)
        self.v_scaled = np.zeros(n_params, dtype=dtype)

    _state = ("learning_rate", "t", "m_scaled", "v_scaled")

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
        keys = ("momentum", "nesterov", "schedule", "power_t")
        cls = SGD
    elif solver == "adam":
        keys = ("beta_1", "beta_2", "epsilon")
        cls = Adam
    else:
        raise ValueError(f"Unknown solver {solver!r}; expected 'sgd' or 'adam'.")
    kwargs = {k: options[k] for k in keys if k in options}
    return cls(n_params, options["learning_rate"], dtype=dtype, **kwargs)
