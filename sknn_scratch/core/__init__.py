"""The from-scratch network: NumPy and SciPy (and any Array API library), no scikit-learn.

Read it next to the tutorial; each module is one of its steps, generalised:

========================  ==========================================================
tutorial step             here
========================  ==========================================================
2. initialize_network     :mod:`.init` (``"normal"`` is the tutorial's; ``"glorot"``, ``"he"``)
3. sigmoid & derivative   :mod:`.activations` (sigmoid, tanh, relu, identity, ...)
4. forward_propagation    :func:`.network.forward`
5. compute_loss           :mod:`.losses` (one object per loss, owning its output link)
6. backward_propagation   :func:`.network.backward` (:class:`.network.Backpropagation`: forward,
                          loss and backward for a batch)
7. update_parameters      :mod:`.optimizers` (SGD, Adam, schedules, gradient clipping)
8. train_network          :mod:`.training` (mini-batches, convergence, early stopping)
9. predict                :func:`.network.predict`
========================  ==========================================================

:mod:`.kernels` holds the few operations that differ between array libraries, chosen once
per namespace: NumPy's in-place forms (with the loops of :mod:`.fused`, which Numba compiles
when installed, matching them to the last bit) and the functional forms that every other
Array API library (torch, CuPy, array_api_strict) trains with.
"""

from .init import initialize_parameters
from .kernels import NUMPY, ArrayAPIKernels, NumpyKernels, kernels_for
from .losses import LOSSES, Loss, make_loss
from .network import (
    Backpropagation,
    Batch,
    NetworkSpec,
    Parameters,
    Workspace,
    forward,
    predict,
)
from .optimizers import (
    SGD,
    Adam,
    LearningRateSchedule,
    Optimizer,
    ScheduleStep,
    make_optimizer,
)
from .training import (
    Ending,
    EpochHook,
    EpochPlan,
    NoImprovement,
    PrintEpochs,
    TrainingData,
    TrainingDivergedError,
    TrainingHistory,
    Validation,
    train_lbfgs,
    train_stochastic,
)

__all__ = [
    "LOSSES",
    "NUMPY",
    "SGD",
    "Adam",
    "ArrayAPIKernels",
    "Backpropagation",
    "Batch",
    "Ending",
    "EpochHook",
    "EpochPlan",
    "LearningRateSchedule",
    "Loss",
    "NetworkSpec",
    "NoImprovement",
    "NumpyKernels",
    "Optimizer",
    "Parameters",
    "PrintEpochs",
    "ScheduleStep",
    "TrainingData",
    "TrainingDivergedError",
    "TrainingHistory",
    "Validation",
    "Workspace",
    "forward",
    "initialize_parameters",
    "kernels_for",
    "make_loss",
    "make_optimizer",
    "predict",
    "train_lbfgs",
    "train_stochastic",
]
