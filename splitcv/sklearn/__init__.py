"""scikit-learn cross-validation splitters with splitcv's folds, on pandas and numpy data.

Each splitter gives the folds of one Spark splitter, with the same parameters (``horizon``,
``gap``, ``"1 month"``, ``labelEnd``...), planned by the same code: same parameters, same data,
same folds. They work as scikit-learn's ``cv=`` (``GridSearchCV``, ``cross_validate``,
``cross_val_score``): ``split(X, y, groups)`` yields arrays of row positions in ``X``, and
``get_n_splits`` counts the folds without splitting. Nothing here imports pyspark, except
``spark_backend``, which runs scikit-learn's fits as Spark tasks (joblib-spark) when it is called.

========================  ===========================================
scikit-learn splitter      Spark splitter
========================  ===========================================
``ExpandingWindowCV``      ``ExpandingWindowSplitter``
``SlidingWindowCV``        ``SlidingWindowSplitter``
``BlockedKFoldCV``         ``BlockedKFoldSplitter``
``CombinatorialPurgedCV``  ``CombinatorialPurgedSplitter``
``GroupKFoldCV``           ``GroupKFoldSplitter``
``KFoldCV``                ``KFoldSplitter`` with ``foldCol``
========================  ===========================================

Random k-fold and stratified k-fold are scikit-learn's own (``KFold``, ``StratifiedKFold`` with
``shuffle=True``): they keep the same promises, but Spark's folds depend on a hash of every column
of the DataFrame, which ``X`` does not determine.
"""

from splitcv.plan.describe import FoldInfo, format_folds
from splitcv.sklearn.convert import from_splitter
from splitcv.sklearn.splitters import (
    BlockedKFoldCV,
    CombinatorialPurgedCV,
    ExpandingWindowCV,
    GroupKFoldCV,
    KFoldCV,
    SlidingWindowCV,
)
from splitcv.sklearn.backend import spark_backend

__all__ = [
    "ExpandingWindowCV",
    "SlidingWindowCV",
    "BlockedKFoldCV",
    "CombinatorialPurgedCV",
    "GroupKFoldCV",
    "KFoldCV",
    "from_splitter",
    "spark_backend",
    "FoldInfo",
    "format_folds",
]
