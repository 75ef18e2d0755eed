"""``y += alpha * x`` in one pass over memory, for the optimizers and the L2 gradient.

In NumPy, ``y += alpha * x`` first writes ``alpha * x`` into a temporary array, then adds it:
two passes over memory and an allocation. The optimizers and the L2 penalty do this to every
parameter at every batch, so it matters. BLAS's ``axpy`` routine computes exactly
``y <- y + alpha * x`` in a single pass; SciPy exposes it as ``scipy.linalg.blas.daxpy``
(float64) and ``saxpy`` (float32).
"""

import numpy as np
from scipy.linalg import blas


def add_scaled(y: np.ndarray, alpha: float, x: np.ndarray) -> None:
    """``y += alpha * x``, in place, without a temporary.

    ``x`` and ``y`` are 1-D arrays of the same length and dtype (float32 or float64).
    """
    axpy = blas.daxpy if y.dtype == np.float64 else blas.saxpy
    # SciPy writes into y itself when y is contiguous and of axpy's dtype (always the case for
    # our flat parameter vectors and their slices); otherwise it returns a new array, which is
    # then copied back so that the function is correct for any y.
    result = axpy(x, y, a=float(alpha))
    if result is not y:
        y[...] = result
