"""Loss functions and the error signal at the output layer (the tutorial's step 5).

A loss is averaged over the samples of a batch, weighted by ``sample_weight`` when given.
Per sample, the losses are:

``squared_error``
    ``mean_k (y_k - p_k)**2``: the tutorial's ``compute_loss`` (mean over all entries).
``log_loss``
    ``-sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]`` with sigmoid outputs (binary and
    multilabel), ``-sum_k y_k log p_k`` with a softmax output (multiclass).
``poisson``
    ``mean_k [y_k log(y_k / p_k) - y_k + p_k]``, the half Poisson deviance, with ``p = exp(z)``.
``absolute_error``
    ``mean_k |r_k|`` with the residual ``r = y - p``: the network learns the median.
``huber``
    ``mean_k h(r_k)``, ``h(r) = r**2 / 2`` for ``|r| <= delta``, else ``delta (|r| - delta / 2)``:
    squared near the fit, linear (and so robust to outliers) beyond ``delta``.
``quantile``
    ``mean_k max(q r_k, (q - 1) r_k)``, the pinball loss: the network learns the
    ``q``-quantile.

The last three are the robust losses; they pair with the identity output only, and Huber's
``delta`` and the quantile's ``q`` are the loss's parameter.

Each loss is an object that owns its output link (the output layer's activation, ``link``):
binary and categorical log-loss are two objects (a sigmoid and a softmax output), the
Poisson loss carries its ``exp``, the robust losses their identity; only the squared error
is written for several links (the tutorial pairs it with a sigmoid output). A loss gives the
batch's loss from the logits and outputs (:meth:`Loss.value`) and the gradient with respect
to the logits (:meth:`Loss.output_delta`). The estimator builds one with :func:`make_loss`
and hands it down; nothing below asks for a loss by name. Adding a loss is a class here and
its entry in :data:`LOSSES`.

Every method takes the kernels of the arrays' library (:mod:`.kernels`) and otherwise uses
only the Array API standard's functions (``xp = kernels.xp``: ``numpy`` itself, or torch,
CuPy... through the Array API), so one form serves every library.

The log-loss and the Poisson loss are computed from the output layer's logits ``z`` rather
than from the probabilities, so they stay finite and warning-free however large ``z`` gets.
"""


from scipy.special import xlogy


def weighted_mean(kernels, values, sample_weight):
    """Mean of ``values``, weighted by ``sample_weight`` when it is given (a scalar of the
    kernels: a Python float with NumPy, a 0-d array on the device elsewhere)."""
    if sample_weight is None:  # np.mean's extra checks cost more here
        return kernels.scalar(kernels.total(values)) / values.shape[0]
    return kernels.scalar(values @ sample_weight / kernels.total(sample_weight))


class Loss:
    """A loss paired with its output link.

    Parameters
    ----------
    link : str, optional
        The output layer's activation: one of ``links``, the first by default (most losses
        have one link only).
    parameter : float or None
        The loss's parameter (Huber's ``delta``, the quantile ``q``); None for a loss that
        takes none, or for its default.
    """

    name = ""
    links: tuple = ()
    """The output activations this loss is written for; the first is its own."""
    parameter_name = None
    default_parameter = None
    allowed = ""

    def __init__(self, link=None, parameter=None):
        link = self.links[0] if link is None else link
        if link not in self.links:
            raise ValueError(
                f"The {self.name!r} loss cannot be used with a {link!r} output layer; use one "
                f"of {self.links}."
            )
        self.link = link
        self.parameter = self._resolve(parameter)

    def _resolve(self, parameter):
        if self.parameter_name is None:
            if parameter is not None:
                raise ValueError(f"The {self.name!r} loss takes no parameter, got {parameter!r}.")
            return None
        if parameter is None:
            return self.default_parameter
        if not self._is_allowed(parameter):
            raise ValueError(
                f"The {self.name!r} loss's {self.parameter_name} must be {self.allowed}, got "
                f"{parameter!r}."
            )
        return float(parameter)

    def _is_allowed(self, parameter) -> bool:
        return True

    def __repr__(self):
        extra = "" if self.parameter is None else f", {self.parameter_name}={self.parameter}"
        return f"{type(self).__name__}(link={self.link!r}{extra})"

    def __eq__(self, other):
        return type(other) is type(self) and (other.link, other.parameter) == (
            self.link,
            self.parameter,
        )

    def __hash__(self):
        return hash((type(self), self.link, self.parameter))

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        """Each row's loss (``normalizer``: what a softmax output divided each row by, when
        the forward pass kept it, see :func:`logsumexp_rows`)."""
        raise NotImplementedError

    def value(self, kernels, Y, logits, outputs, sample_weight=None, normalizer=None):
        """The batch's (weighted) mean loss, a scalar of the kernels (see
        :func:`weighted_mean`)."""
        per_sample = self.per_sample(kernels, Y, logits, outputs, normalizer)
        return weighted_mean(kernels, per_sample, sample_weight)

    def output_delta(self, kernels, Y, outputs, sample_weight, out=None):
        """The gradient of the batch's mean loss with respect to the output layer's logits.

        For the pairs that belong together (log-loss with sigmoid or softmax, Poisson with
        exp), the derivative of the loss and that of the link cancel into ``p - y``; the
        other losses say how they differ in :meth:`_from_residual`. With NumPy the result
        is written into ``out``.
        """
        n_rows, n_outputs = Y.shape
        cancelled = self._cancelled_scale(n_outputs)
        if cancelled is not None and sample_weight is None:  # c (p - y) / n_rows, in one pass
            return kernels.scaled_difference(outputs, Y, cancelled / n_rows, out)
        residual = kernels.subtract(outputs, Y, out=out)
        delta, scale = self._from_residual(kernels, residual, outputs, n_outputs)
        if sample_weight is None:
            return kernels.scale(delta, scale / n_rows)
        per_row = sample_weight * (scale / kernels.xp.sum(sample_weight))
        return kernels.scale(delta, per_row[:, None])

    def _cancelled_scale(self, n_outputs):
        """``c`` for the pairs whose derivatives cancel, whose gradient with respect to the
        logits is ``c (p - y)`` per row; None for the others (see :meth:`_from_residual`)."""
        return None

    def _from_residual(self, kernels, residual, outputs, n_outputs):
        """``(d, c)``: the loss's gradient with respect to the logits is ``c * d`` per row,
        given ``residual = p - y``, which the kernels may overwrite with ``d`` (the residual
        itself where the derivatives cancel)."""
        return residual, self._cancelled_scale(n_outputs)


class SquaredError(Loss):
    """``mean_k (y_k - p_k)**2``: the tutorial's ``compute_loss``."""

    name, links = "squared_error", ("identity", "sigmoid", "softmax")

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        residual = Y - outputs
        squares = kernels.multiply(residual, residual, out=residual)
        return kernels.row_sums(squares) / Y.shape[1]

    def _from_residual(self, kernels, residual, outputs, n_outputs):
        # the loss's derivative 2 (p - y) / n_outputs, times the link's derivative: with a
        # sigmoid output, the tutorial's output_error * sigmoid_derivative(a2)
        return kernels.derivative(self.link, outputs, residual), 2.0 / n_outputs


class BinaryLogLoss(Loss):
    """Cross-entropy of sigmoid units (binary and multilabel targets), from the logits.

    ``-[y log p + (1 - y) log(1 - p)] = softplus(z) - y z``, finite for any ``z``. With the
    sigmoid link its gradient with respect to ``z`` is ``p - y`` (:meth:`Loss.output_delta`).
    """

    name, links = "log_loss", ("sigmoid",)

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        return kernels.row_sums(kernels.softplus(logits)) - kernels.row_dot(Y, logits)

    def _cancelled_scale(self, n_outputs):
        return 1.0  # the sigmoid's derivative cancels the loss's: p - y


class CategoricalLogLoss(Loss):
    """Cross-entropy of a softmax output (multiclass targets), from the logits.

    ``-sum_k y_k log p_k = logsumexp(z) - sum_k y_k z_k`` (the rows of ``y`` sum to one),
    finite for any ``z``; its gradient with respect to ``z`` is ``p - y``.
    """

    name, links = "log_loss", ("softmax",)

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        return logsumexp_rows(kernels, logits, normalizer) - kernels.row_dot(Y, logits)

    def _cancelled_scale(self, n_outputs):
        return 1.0  # the softmax's Jacobian cancels the loss's: p - y


def logsumexp_rows(kernels, z, normalizer=None):
    """``log(sum_k exp(z_k))`` for each row of ``z``, without overflow.

    Subtracting the row maximum ``m`` first keeps every exponent at most zero:
    ``logsumexp(z) = m + log(sum_k exp(z_k - m))``. A softmax output has computed ``m`` and
    that sum already: given them (``normalizer``, two columns), only the log is left, and
    the result is the same to the last bit.
    """
    if normalizer is not None:
        row_max, row_sum = normalizer
        return kernels.xp.log(row_sum[:, 0]) + row_max[:, 0]
    m = kernels.row_max(z)
    shifted = kernels.exp(z - m[:, None])  # in place with NumPy: no second temporary
    return kernels.xp.log(kernels.row_sums(shifted)) + m


class Poisson(Loss):
    """Half the Poisson deviance, ``y log(y / p) - y + p``, with its log link: ``p = exp(z)``.

    Its gradient with respect to ``z`` is ``(p - y) / n_outputs``.
    """

    name, links = "poisson", ("exp",)

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        deviance = xlogy(Y, Y) - Y * logits - Y + outputs
        return kernels.xp.mean(deviance, axis=1)

    def _cancelled_scale(self, n_outputs):
        return 1.0 / n_outputs  # exp's derivative cancels the loss's: (p - y) / n_outputs


class AbsoluteError(Loss):
    """``mean_k |y_k - p_k|``: the network learns the median."""

    name, links = "absolute_error", ("identity",)

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        xp = kernels.xp
        return xp.mean(xp.abs(Y - outputs), axis=1)

    def _from_residual(self, kernels, residual, outputs, n_outputs):
        # sign(p - y); at the kink p == y, 0, the middle of the subgradients
        return kernels.sign(residual), 1.0 / n_outputs


class Huber(Loss):
    """``r**2 / 2`` up to ``|r| = delta``, linear beyond: robust to outliers."""

    name, links = "huber", ("identity",)
    parameter_name, default_parameter, allowed = "delta", 1.0, "a number > 0"

    def _is_allowed(self, delta):
        return delta > 0

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        xp, delta = kernels.xp, self.parameter
        size = xp.abs(Y - outputs)
        quadratic = 0.5 * size * size
        linear = delta * (size - 0.5 * delta)
        return xp.mean(xp.where(size <= delta, quadratic, linear), axis=1)

    def _from_residual(self, kernels, residual, outputs, n_outputs):
        delta = self.parameter  # clip(p - y, -delta, delta)
        return kernels.clip(residual, -delta, delta), 1.0 / n_outputs


class Quantile(Loss):
    """The pinball loss ``max(q r, (q - 1) r)``, ``r = y - p``: the ``q``-quantile."""

    name, links = "quantile", ("identity",)
    parameter_name, default_parameter, allowed = "q", 0.5, "a number in (0, 1)"

    def _is_allowed(self, q):
        return 0 < q < 1

    def per_sample(self, kernels, Y, logits, outputs, normalizer=None):
        q, residual = self.parameter, Y - outputs
        return kernels.xp.mean(kernels.xp.maximum(q * residual, (q - 1) * residual), axis=1)

    def _from_residual(self, kernels, residual, outputs, n_outputs):
        # 1[p > y] - q, and 1/2 - q at p == y (so that with q = 1/2 it is half the absolute
        # error's, as the loss is): (sign(p - y) + 1) / 2 - q
        step = kernels.sign(residual)
        step = kernels.scale(kernels.add(step, 1.0), 0.5)
        return kernels.add(step, -self.parameter), 1.0 / n_outputs


LOSSES = {
    "squared_error": (SquaredError,),
    "log_loss": (BinaryLogLoss, CategoricalLogLoss),
    "poisson": (Poisson,),
    "absolute_error": (AbsoluteError,),
    "huber": (Huber,),
    "quantile": (Quantile,),
}
"""The loss objects of each name, one per link they are written for."""

OUTPUT_ACTIVATIONS = {
    name: tuple(link for cls in classes for link in cls.links) for name, classes in LOSSES.items()
}
"""Which output activations each loss may be paired with."""


def make_loss(name, link=None, parameter=None) -> Loss:
    """The loss called ``name`` for the output activation ``link`` (and its parameter).

    ``link`` picks between the objects of one name (``"sigmoid"``: binary log-loss,
    ``"softmax"``: categorical); without it, the loss's own link (``exp`` for Poisson,
    ``identity`` for the squared error and the robust losses).
    """
    classes = LOSSES[name]
    matching = [cls for cls in classes if link in cls.links]
    return (matching or classes)[0](link, parameter)
