"""splitcv: leak-free, parallel cross-validation for Spark ML."""

from splitcv.splitters import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    ExpandingWindowSplitter,
    FoldInfo,
    FoldSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    SlidingWindowSplitter,
    SmallClassWarning,
    StratifiedKFoldSplitter,
    format_folds,
)

from splitcv.plan.advice import TooManyFoldsWarning

__version__ = "0.1.0"

__all__ = [
    "FoldSplitter",
    "FoldInfo",
    "format_folds",
    "KFoldSplitter",
    "StratifiedKFoldSplitter",
    "GroupKFoldSplitter",
    "ExpandingWindowSplitter",
    "SlidingWindowSplitter",
    "BlockedKFoldSplitter",
    "CombinatorialPurgedSplitter",
    "TooManyFoldsWarning",
    "SmallClassWarning",
]

from splitcv.selection import MetricWarning  # noqa: E402
from splitcv.validator import (  # noqa: E402
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
    SingleClassFoldWarning,
)

__all__ += ["ParallelCrossValidator", "ParallelCrossValidatorModel", "MetricWarning", "SingleClassFoldWarning"]

from splitcv.progress import TaskResult  # noqa: E402

__all__ += ["TaskResult"]

from splitcv.one_of import OneOf  # noqa: E402

__all__ += ["OneOf"]

from splitcv.nested import NestedResult, nested_cross_validate  # noqa: E402

__all__ += ["nested_cross_validate", "NestedResult"]

from splitcv.search import RandomParamGridBuilder, choice, loguniform, randint, uniform  # noqa: E402

__all__ += ["RandomParamGridBuilder", "uniform", "loguniform", "randint", "choice"]

# The leakage auditor lives in splitcv.testing (audit_splitter, assert_no_leakage).
