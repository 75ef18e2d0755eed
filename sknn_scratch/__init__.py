"""sknn_scratch: a multilayer perceptron written from scratch in NumPy, as scikit-learn estimators.

>>> from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
"""

from ._base import TrainingDivergedWarning
from ._classifier import ScratchMLPClassifier
from ._gradient_check import check_gradients
from ._monitor import LayerMonitor
from ._onnx import register_onnx_converters, to_onnx
from ._regressor import ScratchMLPRegressor
from ._step_trace import trace_step
from .core import TrainingDivergedError

__version__ = "0.2.0"

__all__ = [
    "LayerMonitor",
    "ScratchMLPClassifier",
    "ScratchMLPRegressor",
    "TrainingDivergedError",
    "TrainingDivergedWarning",
    "__version__",
    "check_gradients",
    "register_onnx_converters",
    "to_onnx",
    "trace_step",
]
