"""Optimizers: how a gradient becomes a parameter update (the tutorial's step 7).

An optimizer is its update rule and its state (velocity, moment estimates): ``update`` turns
a batch's gradient into new parameters over the flat parameter vector, with the kernels of
the parameters' array library (in place with NumPy, a new vector elsewhere). The tutorial's
``update_parameters`` is ``SGD(learning_rate, momentum=0)``: ``params -= lr * grad`` (the
tutorial adds ``lr * (y - p)``-based terms, which is the same step with the sign folded into
the gradient).

The learning rate is not the optimizer's business beyond using it: a
:class:`LearningRateSchedule` is a function of the step (:class:`ScheduleStep`: the epoch,
the samples seen, the plateaus met) and the training loop sets ``optimizer.learning_rate``
from it before every epoch; it is the rate's one route.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .kernels import NUMPY


class ScheduleStep(NamedTuple):
    """Where training stands when an epoch begins, as a schedule sees it.

    ``epoch`` counts the epochs since the schedule started, ``samples_seen`` the samples the
    optimizer has stepped over (0 in the schedule's first epoch), ``plateaus`` the plateaus
    of the loss met so far. (A named tuple: one is made per epoch, and tuples are cheap.)
    """

    epoch: int
    samples_seen: int = 0
    plateaus: int = 0


@dataclass(frozen=True)
class LearningRateSchedule:
    """The learning rate as a function of the step, for every optimizer.

    ``"constant"`` keeps ``learning_rate``; ``"invscaling"`` is ``lr / (t + 1) ** power_t``
    with ``t`` the samples seen (scikit-learn's rule); ``"cosine"`` warms up linearly over
    ``warmup_epochs`` (``lr * (e + 1) / (warmup_epochs + 1)`` in epoch ``e``), then decays as
    ``lr * (1 + cos(pi * progress)) / 2`` to zero at ``epochs``; ``"adaptive"`` is
    ``lr / 5 ** k`` after ``k`` plateaus of the loss (the training loop counts them, and
    asks :meth:`reduces_on_plateau` whether a plateau lowers the rate or ends training).
    """

    learning_rate: float
    kind: str = "constant"
    power_t: float = 0.5
    epochs: int = 200
    warmup_epochs: int = 0

    SMALLEST_ADAPTIVE_RATE = 1e-6
    """The ``"adaptive"`` schedule stops training rather than go below this rate."""

    def __call__(self, step: ScheduleStep) -> float:
        """The learning rate of the epoch at ``step``."""
        base_rate = self.learning_rate
        if self.kind == "invscaling":
            return base_rate / (step.samples_seen + 1) ** self.power_t
        if self.kind == "cosine":
            return base_rate * self._cosine_factor(step.epoch)
        if self.kind == "adaptive":
            return base_rate / 5.0**step.plateaus
        return base_rate

    def _cosine_factor(self, e) -> float:
        if e < self.warmup_epochs:
            return (e + 1) / (self.warmup_epochs + 1)
        decay_epochs = max(self.epochs - self.warmup_epochs, 1)
        progress = min((e - self.warmup_epochs) / decay_epochs, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def reduces_on_plateau(self, current_rate) -> bool:
        """Whether a plateau divides the rate by 5 (True) or ends training (False)."""
        return self.kind == "adaptive" and current_rate > self.SMALLEST_ADAPTIVE_RATE


def clip_by_global_norm(grad, max_norm, kernels=NUMPY):
    """``grad`` scaled so that its L2 norm is at most ``max_norm`` (in place with NumPy).

    The norm is over every parameter at once (the "global" norm), so the step keeps its
    direction and only its length is limited: a batch with an exploding gradient moves the
    parameters by at most ``learning_rate * max_norm`` with plain SGD. A NaN norm leaves the
    gradient as it is, for the divergence check to see. (The kernels compute it: NumPy with
    Python numbers, other libraries on the device, so that no batch waits for the host.)
    """
    return kernels.clip_to_norm(grad, max_norm)


class Optimizer:
    """Common interface: :meth:`update` per batch, with the current ``learning_rate``.

    What an optimizer has learnt (its ``_state`` attributes: velocity, moments, step count)
    can be saved with ``state`` and put back with ``restore``, so that a diverging epoch can
    be undone completely, and carried into an optimizer built with new hyper-parameters with
    ``resume_from``.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    dtype : dtype
        Dtype of the parameters (the optimizer's state uses the same).
    max_grad_norm : float, optional
        Clip each batch's gradient to this global L2 norm before the update (see
        :meth:`update`); no clipping if omitted.
    kernels : NumpyKernels or ArrayAPIKernels, default=NUMPY
        The parameters' array library and device, where the state lives too.
    """

    solver = ""
    """The name the estimators' ``solver`` parameter gives this optimizer."""

    learning_rate: float | None = None
    """The step size of the current epoch, set by the training loop from its schedule."""

    def __init__(self, n_params, dtype=np.float64, max_grad_norm=None, kernels=NUMPY):
        # Every hyper-parameter is kept as a Python float, never a NumPy scalar: multiplying a
        # float32 array in place by a NumPy float64 scalar would run in float64 and cast back.
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.n_params, self.dtype, self.kernels = n_params, dtype, kernels

    _state: tuple = ()

    def state(self, into=None) -> dict:
        """A copy of what this optimizer has learnt, for :meth:`restore`.

        ``into``, an earlier :meth:`state` of this optimizer, receives the copy (NumPy
        copies into its arrays, so that saving the state every epoch allocates nothing).
        """
        k = self.kernels
        if into is None:
            return {name: k.snapshot(getattr(self, name)) for name in self._state}
        for name in self._state:
            value = getattr(self, name)
            into[name] = k.assign(into[name], value) if hasattr(value, "shape") else value
        return into

    def restore(self, state: dict) -> None:
        """Put back a :meth:`state` (NumPy copies the arrays into the existing ones)."""
        for name, value in state.items():
            current = getattr(self, name)
            if hasattr(current, "shape"):
                setattr(self, name, self.kernels.assign(current, value))
            else:
                setattr(self, name, type(current)(value))

    def to_dict(self, on_host=False) -> dict:
        """This optimizer as plain data, for pickle or skops: its solver's name and its
        :meth:`state`; ``library`` is None for NumPy, else the kernels the state lives in.
        ``on_host`` gives the state as NumPy arrays (for a network moved to NumPy).
        :meth:`from_dict` builds the optimizer back."""
        state, library = self.state(), None if self.kernels.in_place else self.kernels
        if on_host and library is not None:
            state = {
                name: library.to_numpy(v) if hasattr(v, "shape") else v
                for name, v in state.items()
            }
            library = None
        return {"solver": self.solver, "state": state, "library": library}

    @staticmethod
    def from_dict(saved: dict) -> "Optimizer":
        """The optimizer :meth:`to_dict` saved, holding its state (what ``partial_fit``
        resumes from); its other hyper-parameters are set when the next call builds its own."""
        kernels = NUMPY if saved["library"] is None else saved["library"]
        arrays = [value for value in saved["state"].values() if hasattr(value, "shape")]
        optimizer = OPTIMIZERS[saved["solver"]](
            arrays[0].shape[0], dtype=arrays[0].dtype, kernels=kernels
        )
        optimizer.restore(saved["state"])
        return optimizer

    def is_finite(self) -> bool:
        """Whether every number of the state is finite (Adam's squared gradients can overflow
        while the parameters stay finite, and would then freeze them for good)."""
        arrays = (getattr(self, name) for name in self._state)
        return all(self.kernels.all_finite(a) for a in arrays if hasattr(a, "shape"))

    def resume_from(self, previous: "Optimizer") -> None:
        """Continue where ``previous`` (of the same class, size and precision) stopped: its
        velocity or moments carry over, moved to this optimizer's array library and device
        if the network was moved since. ``previous`` is not modified."""
        state = previous.state()
        if previous.kernels != self.kernels:
            for name, value in state.items():
                if hasattr(value, "shape"):
                    state[name] = self.kernels.from_host(previous.kernels.to_numpy(value))
        self.restore(state)

    def fits(self, params) -> bool:
        """Whether this optimizer's state can continue training ``params`` (its size and
        precision; the library and device may differ, see :meth:`resume_from`)."""
        flat = params.flat
        return tuple(flat.shape) == (self.n_params,) and params.kernels.host_dtype(
            flat.dtype
        ) == self.kernels.host_dtype(self.dtype)

    def update(self, params, grad):
        """One batch's update: clip the gradient (with ``max_grad_norm``), then :meth:`step`.

        Returns the new parameters (``params`` itself, updated in place, with NumPy).
        """
        if self.max_grad_norm is not None:
            grad = clip_by_global_norm(grad, self.max_grad_norm, self.kernels)
        return self.step(params, grad)

    def step(self, params, grad):
        """The parameters after one step (NumPy: updated in place); ``grad`` may be
        overwritten."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum.

    ``velocity = momentum * velocity - lr * grad`` then ``params += velocity``; with Nesterov's
    momentum ``params += momentum * velocity - lr * grad`` instead.

    Parameters
    ----------
    n_params, dtype, max_grad_norm, kernels
        See :class:`Optimizer`.
    momentum : float, default=0.9
    nesterov : bool, default=True
    """

    def __init__(
        self, n_params, dtype=np.float64, max_grad_norm=None, kernels=NUMPY, momentum=0.9,
        nesterov=True,
    ):  # fmt: skip
        super().__init__(n_params, dtype, max_grad_norm, kernels)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = kernels.zeros(n_params, dtype)

    solver = "sgd"
    _state = ("velocity",)

    def step(self, params, grad):
        k = self.kernels
        if self.momentum == 0:
            return k.plain_sgd_update(params, grad, self.learning_rate)
        params, self.velocity = k.sgd_update(
            params, grad, self.velocity, self.learning_rate, self.momentum, self.nesterov
        )
        return params

    def is_finite(self) -> bool:
        # without momentum the velocity is neither read nor written: nothing to check
        return self.momentum == 0 or super().is_finite()


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014): steps scaled by running moments of the gradient.

    ``m = beta_1 m + (1 - beta_1) g``, ``v = beta_2 v + (1 - beta_2) g**2`` and
    ``params -= lr_t * m / (sqrt(v) + epsilon)`` with the bias-corrected step
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.

    Parameters
    ----------
    n_params, dtype, max_grad_norm, kernels
        See :class:`Optimizer`.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Keeps the division finite.
    """

    def __init__(
        self, n_params, dtype=np.float64, max_grad_norm=None, kernels=NUMPY, beta_1=0.9,
        beta_2=0.999, epsilon=1e-8,
    ):  # fmt: skip
        super().__init__(n_params, dtype, max_grad_norm, kernels)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        # The moments are stored divided by (1 - beta): m / (1 - beta_1) = beta_1 * (its
        # previous value) + g, so each update is two in-place passes over memory with no
        # temporary array (the factors (1 - beta) are put back in the step's constants).
        self.m_scaled = kernels.zeros(n_params, dtype)
        self.v_scaled = kernels.zeros(n_params, dtype)

    solver = "adam"
    _state = ("t", "m_scaled", "v_scaled")

    def step(self, params, grad):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # params -= lr_t * m / (sqrt(v) + epsilon), written with the scaled moments:
        # lr_t (1 - b1) / sqrt(1 - b2) * m_scaled / (sqrt(v_scaled) + epsilon / sqrt(1 - b2)).
        # math, not np: a NumPy float64 scalar would make float32 arithmetic run in float64.
        root = math.sqrt(1 - b2)
        lr_t = self.learning_rate * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        eps_scaled, step_scale = self.epsilon / root, lr_t * (1 - b1) / root
        params, self.m_scaled, self.v_scaled = self.kernels.adam_update(
            params, grad, self.m_scaled, self.v_scaled, b1, b2, eps_scaled, step_scale
        )
        return params


OPTIMIZERS = {cls.solver: cls for cls in (SGD, Adam)}

_OPTIONS = {
    "sgd": ("max_grad_norm", "momentum", "nesterov"),
    "adam": ("max_grad_norm", "beta_1", "beta_2", "epsilon"),
}


def make_optimizer(solver, n_params, dtype, kernels=NUMPY, **options) -> Optimizer:
    """Build the optimizer called ``solver`` (``"sgd"`` or ``"adam"``) with its options."""
    if solver not in OPTIMIZERS:
        raise ValueError(f"Unknown solver {solver!r}; expected 'sgd' or 'adam'.")
    kwargs = {k: options[k] for k in _OPTIONS[solver] if k in options}
    return OPTIMIZERS[solver](n_params, dtype=dtype, kernels=kernels, **kwargs)
