"""Initial weights and biases (the tutorial's step 2, ``initialize_network``)."""

import numpy as np

from .network import Parameters


def init_normal(params, rng, hidden_activation) -> None:
    """The tutorial's initialisation: weights from the standard normal, biases zero.

    The weights are drawn layer by layer, ``W1`` then ``W2`` and so on, exactly as the
    tutorial's ``np.random.randn(input_size, hidden_size)`` calls do, so a
    ``RandomState(42)`` gives the tutorial's network.
    """
    for W in params.coefs:
        W[...] = rng.standard_normal(W.shape)


def init_glorot(params, rng, hidden_activation) -> None:
    """Glorot / Xavier uniform weights, biases zero.

    Each weight is drawn from ``U(-r, r)`` with ``r = sqrt(6 / (fan_in + fan_out))``, which
    keeps the variance of activations and gradients about constant from layer to layer.
    For sigmoid units ``r = sqrt(2 / (fan_in + fan_out))``, as scikit-learn's MLP uses.
    """
    factor = 2.0 if hidden_activation == "sigmoid" else 6.0
    for W in params.coefs:
        fan_in, fan_out = W.shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        W[...] = rng.uniform(-bound, bound, size=W.shape)


def init_he(params, rng, hidden_activation) -> None:
    """He (Kaiming) normal weights, biases zero (He et al. 2015).

    Each weight of a layer with ``fan_in`` inputs is drawn from a normal of mean 0 and
    standard deviation ``sqrt(2 / fan_in)``. A relu unit passes on about half the second
    moment of its input; the factor 2 makes up for it, so that the activations keep their
    scale from layer to layer. Meant for relu and its kin (leaky_relu, elu, gelu, silu).
    The weights are drawn layer by layer, ``W1`` first, as with the other initialisations.
    """
    for W in params.coefs:
        fan_in = W.shape[0]
        W[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=W.shape)


INITIALIZERS = {"normal": init_normal, "glorot": init_glorot, "he": init_he}


def initialize_parameters(layer_sizes, method, rng, hidden_activation, dtype=np.float64):
    """New parameters for a network with ``layer_sizes`` units per layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first.
    method : {"normal", "glorot", "he"}
    rng : numpy.random.RandomState or Generator
        Source of the random draws (drawn in float64, then cast to ``dtype``).
    hidden_activation : str
    dtype : numpy dtype

    Returns
    -------
    Parameters
    """
    params = Parameters(layer_sizes, dtype)
    INITIALIZERS[method](params, rng, hidden_activation)
    return params
