"""Optimizers: how a gradient becomes a parameter update (the tutorial's step 7).

Each optimizer updates the flat parameter vector in place with a few whole-array operations,
and keeps its own state (velocity, moment estimates, the current learning rate). The
tutorial's ``update_parameters`` is ``SGD(learning_rate, momentum=0)``: ``params -= lr * grad``
(the tutorial adds ``lr * (y - p)``-based terms, which is the same step with the sign folded
into the gradient).
"""

import numpy as np


class Optimizer:
    """Common interface: ``step`` per batch, ``end_epoch`` and ``on_plateau`` per epoch.

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
        self.learning_rate_init = learning_rate
        self.learning_rate = learning_rate
        self._scratch = np.empty(n_params, dtype=dtype)

    def fits(self, params: np.ndarray) -> bool:
        """Whether this optimizer's state matches ``params`` (size and dtype)."""
        return params.shape == self._scratch.shape and params.dtype == self._scratch.dtype

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
        self.momentum = momentum
        self.nesterov = nesterov
        self.schedule = schedule
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def step(self, params, grad):
        grad *= self.learning_rate  # grad now holds lr * grad
        if self.momentum == 0:
            params -= grad
            return
        self.velocity *= self.momentum
        self.velocity -= grad
        if self.nesterov:
            np.multiply(self.velocity, self.momentum, out=self._scratch)
            self._scratch -= grad
            params += self._scratch
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
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def step(self, params, grad):
        self.t += 1
        b1, b2, scratch = self.beta_1, self.beta_2, self._scratch
        self.m *= b1
        np.multiply(grad, 1 - b1, out=scratch)
        self.m += scratch
        self.v *= b2
        grad *= grad
        grad *= 1 - b2
        self.v += grad
        lr_t = self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        np.sqrt(self.v, out=scratch)
        scratch += self.epsilon
        np.divide(self.m, scratch, out=scratch)
        scratch *= lr_t
        params -= scratch


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
