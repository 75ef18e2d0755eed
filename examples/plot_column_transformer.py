"""
==============================================
Mixed-type DataFrames with a ColumnTransformer
==============================================

Real tables mix numbers and categories, and have gaps. A
:class:`~sklearn.compose.ColumnTransformer` prepares each kind of column its own way, and a
:class:`~sklearn.pipeline.Pipeline` puts it in front of the network, so that
cross-validation and prediction repeat exactly the same steps. With pandas output switched
on, the column names survive every step and the network records the names of the features
it was trained on.
"""

# %%
# A customer table
# ----------------
# A made-up table of 2000 customers of a subscription service, and whether each one
# cancelled. Cancelling is more likely on a monthly contract, with many support calls and
# early in a subscription; the region has no effect, and 5% of the ``monthly_charges`` are
# missing.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknn_scratch import ScratchMLPClassifier

rng = np.random.RandomState(0)
n = 2000
customers = pd.DataFrame(
    {
        "tenure_months": rng.randint(1, 73, n),
        "monthly_charges": rng.normal(70, 25, n).clip(15, 150).round(2),
        "support_calls": rng.poisson(1.5, n),
        "contract": rng.choice(["monthly", "one year", "two years"], n, p=[0.5, 0.3, 0.2]),
        "region": rng.choice(["north", "south", "east", "west"], n),
    }
)
logit = (
    -1.0
    + 2.0 * (customers["contract"] == "monthly")
    - 1.0 * (customers["contract"] == "two years")
    + 0.6 * customers["support_calls"]
    - 0.04 * customers["tenure_months"]
    + 0.01 * (customers["monthly_charges"] - 70)
)
cancelled = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
customers.loc[rng.uniform(size=n) < 0.05, "monthly_charges"] = np.nan
customers.head()

# %%
# The pipeline
# ------------
# Numbers: fill the gaps with the median, then standardise. Categories: one-hot encode
# (dense, since pandas output needs it; categories unseen in training are ignored).
# ``set_output(transform="pandas")`` makes every step hand a DataFrame to the next.

numeric = ["tenure_months", "monthly_charges", "support_calls"]
categorical = ["contract", "region"]
preprocess = ColumnTransformer(
    [
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), categorical),
    ]
)
model = Pipeline(
    [
        ("preprocess", preprocess),
        ("mlp", ScratchMLPClassifier(hidden_size=16, solver="lbfgs", alpha=1.0, random_state=0)),
    ]
).set_output(transform="pandas")

X_train, X_test, y_train, y_test = train_test_split(
    customers, cancelled, stratify=cancelled, random_state=0
)
model.fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
print(f"cancellation rate in the test set: {y_test.mean():.3f}")

# %%
# Feature names
# -------------
# The pipeline knows the columns it was given, and the network the columns it was trained
# on, one for each row of its first weight matrix ``coefs_[0]``:

print("pipeline input:", list(model.feature_names_in_))
print("network input: ", list(model["mlp"].feature_names_in_))
print("first layer:   ", model["mlp"].coefs_[0].shape)

# %%
# Which columns matter?
# ---------------------
# Permutation importance shuffles one column of the test table at a time and measures how
# much the accuracy drops. It works on the pipeline as a whole, so it speaks of the original
# columns, not of the encoded ones.

importance = permutation_importance(
    model, X_test, y_test, n_repeats=10, random_state=0, scoring="accuracy"
)
order = importance.importances_mean.argsort()
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.boxplot(
    importance.importances[order].T,
    orientation="horizontal",
    tick_labels=X_test.columns[order],
)
ax.axvline(0, color="0.5", linestyle="--")
ax.set_xlabel("Drop in test accuracy when the column is shuffled")
ax.set_title("Permutation importance")
plt.show()

# %%
# The contract, the support calls and the tenure carry the signal; shuffling the region,
# which played no part in who cancelled, changes nothing.
