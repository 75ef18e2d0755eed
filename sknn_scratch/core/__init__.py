"""The from-scratch network: NumPy and SciPy only, no scikit-learn.

Read it next to the tutorial; each module is one of its steps, generalised:

========================  ==========================================================
tutorial step             here
========================  ==========================================================
2. initialize_network     :mod:`.init` (``"normal"`` is the tutorial's; ``"glorot"``, ``"he"``)
3. sigmoid & derivative   :mod:`.activations` (sigmoid, tanh, relu, identity, ...)
4. forward_propagation    :func:`.network.forward`
5. compute_loss           :mod:`.losses` (squared_error, log_loss, poisson, robust ones)
6. backward_propagation   :func:`.network.backward`
7. update_parameters      :mod:`.optimizers` (SGD, Adam, schedules, gradient clipping)
8. train_network          :mod:`.training` (mini-batches, convergence, early stopping)
9. predict                :func:`.network.predict`
========================  ==========================================================

:mod:`.fused` holds the few element-wise steps that Numba, when installed, compiles into
single loops; each is called next to its NumPy form, which it matches to the last bit.
"""

from .init import initialize_parameters
from .network import NetworkSpec, Parameters, Workspace, forward, loss_and_gradient, predict
from .optimizers import SGD, Adam, LearningRateSchedule, make_optimizer
from .training import (
    TrainingDivergedError,
    TrainingHistory,
    Validation,
    train_lbfgs,
    train_stochastic,
)

__all__ = [
    "SGD",
    "Adam",
    "LearningRateSchedule",
    "NetworkSpec",
    "Parameters",
    "TrainingDivergedError",
    "TrainingHistory",
    "Validation",
    "Workspace",
    "forward",
    "initialize_parameters",
    "loss_and_gradient",
    "make_optimizer",
    "predict",
    "train_lbfgs",
    "train_stochastic",
]
