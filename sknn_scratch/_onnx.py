"""Export to ONNX: a fitted network as an ONNX graph, alone or inside a Pipeline.

The network is registered with skl2onnx as a converter (its shape calculator and the graph
it writes), so that ``skl2onnx.to_onnx`` converts a Pipeline that ends with it, a
``StandardScaler`` before it included; :func:`to_onnx` registers it and calls skl2onnx. The
graph is the forward pass of :func:`sknn_scratch.core.network.forward`, layer by layer:
``z = a @ W + b`` (MatMul, Add) and the activation as ONNX operators, in float32.

onnx, skl2onnx and onnxruntime are the optional ``onnx`` extra; nothing here is imported
before :func:`to_onnx` or :func:`register_onnx_converters` is called.
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from .core.activations import largest_finite_exp_input
from .core.kernels import to_numpy

_REGISTERED = []


def _activations(ops, opset):
    """ONNX forms of every activation, each ``f(z) -> node``."""

    def gelu(z):  # z * Phi(z), Phi(z) = (1 + erf(z / sqrt 2)) / 2: the exact form, as ours
        half_z = ops.OnnxMul(z, np.array([0.5], dtype=np.float32), op_version=opset)
        erf = ops.OnnxErf(
            ops.OnnxMul(z, np.array([1 / math.sqrt(2)], dtype=np.float32), op_version=opset),
            op_version=opset,
        )
        one = np.array([1.0], dtype=np.float32)
        return ops.OnnxMul(half_z, ops.OnnxAdd(erf, one, op_version=opset), op_version=opset)

    cap = np.array([largest_finite_exp_input(np.float32)], dtype=np.float32)
    return {
        "identity": lambda z: ops.OnnxIdentity(z, op_version=opset),
        "sigmoid": lambda z: ops.OnnxSigmoid(z, op_version=opset),
        "tanh": lambda z: ops.OnnxTanh(z, op_version=opset),
        "relu": lambda z: ops.OnnxRelu(z, op_version=opset),
        "leaky_relu": lambda z: ops.OnnxLeakyRelu(z, alpha=0.01, op_version=opset),
        "elu": lambda z: ops.OnnxElu(z, alpha=1.0, op_version=opset),
        "gelu": gelu,
        "softplus": lambda z: ops.OnnxSoftplus(z, op_version=opset),
        "silu": lambda z: ops.OnnxMul(z, ops.OnnxSigmoid(z, op_version=opset), op_version=opset),
        "softmax": lambda z: ops.OnnxSoftmax(z, axis=1, op_version=opset),
        "exp": lambda z: ops.OnnxExp(ops.OnnxMin(z, cap, op_version=opset), op_version=opset),
    }


def _network(model, X, ops, opset):
    """The forward pass as ONNX operators: the output layer's activations."""
    activate = _activations(ops, opset)
    hidden = model.activation
    a = X
    last = len(model.coefs_) - 1
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        W = to_numpy(W, None).astype(np.float32)
        b = to_numpy(b, None).astype(np.float32)
        z = ops.OnnxAdd(ops.OnnxMatMul(a, W, op_version=opset), b, op_version=opset)
        a = activate[model.out_activation_ if i == last else hidden](z)
    return a


def _graph_labels(classes):
    """The classes as the graph's label output holds them: int64 for numbers, str for text.

    skl2onnx declares the label output by the same rule (``int64`` when every class is a
    number or a bool, ``string`` when every class is text), so the graph's labels equal the
    ones ``predict`` returns. Float classes are whole numbers (a classifier refuses
    continuous targets), so int64 holds them exactly, unless they are too large for it.
    (scikit-learn refuses labels that mix numbers and text before a fit.)
    """
    classes = np.asarray(classes)
    values = classes.tolist()
    if all(isinstance(c, str) for c in values):
        return classes.astype(str)
    whole = [int(c) for c in values]  # Python ints: exact, whatever the classes' dtype
    if whole != values or not all(-(2**63) <= c < 2**63 for c in whole):
        raise ValueError(
            f"The classes {values!r} do not fit the int64 labels of an ONNX graph. Encode them "
            "as smaller integers or as strings (e.g. with LabelEncoder) and refit."
        )
    return np.array(whole, dtype=np.int64)


def _convert_classifier(scope, operator, container):
    from skl2onnx.algebra import onnx_ops as ops

    model, opset = operator.raw_operator, container.target_opset
    label_out, proba_out = operator.outputs
    outputs = _network(model, operator.inputs[0], ops, opset)
    kind = model._label_binarizer.y_type_
    if kind == "multilabel-indicator":  # a sigmoid per label, each thresholded at 0.5
        proba = ops.OnnxIdentity(outputs, op_version=opset, output_names=[proba_out])
        above = ops.OnnxGreater(outputs, np.array([0.5], dtype=np.float32), op_version=opset)
        label = ops.OnnxCast(above, to=7, op_version=opset, output_names=[label_out])  # int64
    else:
        if kind == "binary":  # one sigmoid unit: P(second class); the first is 1 - p
            one = np.array([1.0], dtype=np.float32)
            outputs = ops.OnnxConcat(
                ops.OnnxSub(one, outputs, op_version=opset), outputs, axis=1, op_version=opset
            )
        proba = ops.OnnxIdentity(outputs, op_version=opset, output_names=[proba_out])
        index = ops.OnnxArgMax(outputs, axis=1, keepdims=0, op_version=opset)
        labels = _graph_labels(model.classes_)
        label = ops.OnnxGather(labels, index, op_version=opset, output_names=[label_out])
    label.add_to(scope, container)
    proba.add_to(scope, container)


def _classifier_shapes(operator):
    """skl2onnx's shapes for a classifier; a multilabel one's labels are a matrix."""
    from skl2onnx.common.data_types import Int64TensorType
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    calculate_linear_classifier_output_shapes(operator)
    model = operator.raw_operator
    if model._label_binarizer.y_type_ == "multilabel-indicator":
        n_rows = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n_rows, len(model.classes_)])


def _regressor_shapes(operator):
    """The predictions: one column per output."""
    from skl2onnx.common.data_types import FloatTensorType

    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_rows, operator.raw_operator.n_outputs_])


def _convert_regressor(scope, operator, container):
    from skl2onnx.algebra import onnx_ops as ops

    model, opset = operator.raw_operator, container.target_opset
    outputs = _network(model, operator.inputs[0], ops, opset)
    result = ops.OnnxIdentity(outputs, op_version=opset, output_names=operator.outputs[:1])
    result.add_to(scope, container)


def register_onnx_converters() -> None:
    """Register both estimators with skl2onnx (once), so that ``skl2onnx.to_onnx`` converts
    them, alone or as the last step of a Pipeline.

    Raises an ``ImportError`` that says what to install when skl2onnx is missing.
    """
    if _REGISTERED:
        return
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "Exporting to ONNX needs onnx and skl2onnx (and onnxruntime to run the graph): "
            "pip install onnx skl2onnx onnxruntime, or the package's onnx extra from its "
            "source directory: pip install '.[onnx]'."
        ) from error

    from ._classifier import ScratchMLPClassifier
    from ._regressor import ScratchMLPRegressor

    update_registered_converter(
        ScratchMLPClassifier,
        "SknnScratchMLPClassifier",
        _classifier_shapes,
        _convert_classifier,
        options={"zipmap": [False, True, "columns"], "nocl": [False, True]},
    )
    update_registered_converter(
        ScratchMLPRegressor,
        "SknnScratchMLPRegressor",
        _regressor_shapes,
        _convert_regressor,
    )
    _REGISTERED.append(True)


def to_onnx(model, X_sample, *, target_opset=None):
    """Export a fitted network, or a Pipeline ending with one, to an ONNX model.

    The graph computes in float32. For a classifier it has two outputs, the predicted labels
    and the probabilities (an array, one column per class); for a regressor one, the
    predictions of shape ``(n_samples, n_outputs)``.

    Parameters
    ----------
    model : ScratchMLPClassifier, ScratchMLPRegressor or Pipeline
        A fitted estimator (a Pipeline's other steps must be ones skl2onnx converts).
    X_sample : array-like of shape (n_samples, n_features)
        A few rows of input, for the input's name, type and width.
    target_opset : int, optional
        The ONNX opset to write (skl2onnx's latest supported one by default).

    Returns
    -------
    onnx_model : onnx.ModelProto
        Run it with ``onnxruntime.InferenceSession(onnx_model.SerializeToString())``.
    """
    check_is_fitted(model)  # a Pipeline checks its last step
    register_onnx_converters()
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    from ._base import _to_host
    from ._classifier import ScratchMLPClassifier

    X_sample = _to_host(X_sample)
    if sp.issparse(X_sample):
        X_sample = X_sample[:5].toarray()  # the graph takes dense float32 rows
    X_sample = np.asarray(X_sample, dtype=np.float32)
    return skl2onnx_to_onnx(
        model,
        X_sample,
        target_opset=target_opset,
        options={ScratchMLPClassifier: {"zipmap": False}},  # probabilities as one array
    )
