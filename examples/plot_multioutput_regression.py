"""
=====================================
Regression with several targets
=====================================

:class:`~sknn_scratch.ScratchMLPRegressor` fits several targets at once: give it a 2-D
``y`` and the network gets one output unit per column, all sharing the same hidden layer.
Here it learns where the hand of a two-jointed robot arm ends up, ``(x, y)``, from the
angles of its two joints, a smooth but thoroughly non-linear map.
"""

# %%
# The arm
# -------
# The upper arm (length 1) turns by ``theta1`` around the shoulder at the origin, the
# forearm (length 0.7) by ``theta2`` around the elbow. The hand is at
#
# ``x = cos(theta1) + 0.7 cos(theta1 + theta2)``,
# ``y = sin(theta1) + 0.7 sin(theta1 + theta2)``.
#
# We observe 1000 random poses, with a little measurement noise on the position.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

from sknn_scratch import ScratchMLPRegressor


def hand_position(angles):
    theta1, theta2 = angles[:, 0], angles[:, 1]
    x = np.cos(theta1) + 0.7 * np.cos(theta1 + theta2)
    y = np.sin(theta1) + 0.7 * np.sin(theta1 + theta2)
    return np.column_stack([x, y])


rng = np.random.RandomState(0)
angles = rng.uniform(0, np.pi, size=(1000, 2))
positions = hand_position(angles) + rng.normal(scale=0.02, size=(1000, 2))
angles_train, angles_test, positions_train, positions_test = train_test_split(
    angles, positions, random_state=0
)

# %%
# One network, two outputs
# ------------------------
# L-BFGS suits a data set this small. A linear regression, which also fits both targets at
# once, is the baseline.

network = ScratchMLPRegressor(
    hidden_size=32, activation="tanh", solver="lbfgs", epochs=2000, random_state=0
).fit(angles_train, positions_train)
linear = LinearRegression().fit(angles_train, positions_train)

print("outputs of the network:", network.n_outputs_)
for name, model in [("network", network), ("linear", linear)]:
    error = model.predict(angles_test) - positions_test
    rmse = np.sqrt((error**2).mean(axis=0))
    print(
        f"{name:8s} R² = {model.score(angles_test, positions_test):.4f}   "
        f"RMSE x = {rmse[0]:.3f}, y = {rmse[1]:.3f}"
    )

# %%
# ``score`` is the R² averaged over the two targets. The network's error is close to the
# noise (0.02) put into the data.
#
# Sweeping the elbow
# ------------------
# Fix the shoulder at a few angles and turn the elbow through its whole range: the hand
# draws an arc of a circle. The network follows the arcs; the linear model can only draw
# straight lines.

sweep = np.linspace(0, np.pi, 100)
fig, (ax_arm, ax_fit) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
for i, theta1 in enumerate([0.3, 1.35, 2.4]):
    poses = np.column_stack([np.full_like(sweep, theta1), sweep])
    label = i == 0
    true = hand_position(poses)
    ax_arm.plot(*true.T, color="0.3", linewidth=4, alpha=0.4, label="true" if label else None)
    ax_arm.plot(*network.predict(poses).T, color="C0", label="network" if label else None)
    ax_arm.plot(
        *linear.predict(poses).T, color="C3", linestyle="--", label="linear" if label else None
    )
    elbow = [np.cos(theta1), np.sin(theta1)]
    ax_arm.plot([0, elbow[0]], [0, elbow[1]], color="k", marker="o", markersize=4)
ax_arm.set_aspect("equal")
ax_arm.set(xlabel="x", ylabel="y", title="Hand position as the elbow turns")
ax_arm.legend(loc="upper right")

predicted = network.predict(angles_test)
for k, (name, color) in enumerate([("x", "C0"), ("y", "C1")]):
    ax_fit.scatter(positions_test[:, k], predicted[:, k], s=8, color=color, label=name)
limits = [positions.min() - 0.1, positions.max() + 0.1]
ax_fit.plot(limits, limits, color="0.5", linestyle="--", linewidth=1)
ax_fit.set(
    xlabel="true coordinate", ylabel="predicted coordinate", title="Network on the test set"
)
ax_fit.set_aspect("equal")
ax_fit.legend()
plt.show()
