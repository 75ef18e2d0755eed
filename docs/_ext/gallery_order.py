"""The order of the examples in the gallery: from the tutorial outwards."""

ORDER = [
    "plot_xor.py",
    "plot_xor_playground.py",
    "plot_gradient_check.py",
    "plot_activations.py",
    "plot_early_stopping.py",
    "plot_network_health.py",
    "plot_callbacks.py",
    "plot_grid_search.py",
    "plot_successive_halving.py",
    "plot_column_transformer.py",
    "plot_baselines.py",
    "plot_multioutput_regression.py",
    "plot_robust_losses.py",
    "plot_gpu_training.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: listed files first."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        position = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return position, filename

    def __repr__(self):
        return "ExampleOrder"
