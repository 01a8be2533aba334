"""splitcv: leak-free, parallel cross-validation for Spark ML."""

from splitcv.splitters import (
    BlockedKFoldSplitter,
    ExpandingWindowSplitter,
    FoldInfo,
    FoldSplitter,
    KFoldSplitter,
    SlidingWindowSplitter,
    format_folds,
)

from splitcv.plan.advice import TooManyFoldsWarning

__version__ = "0.1.0"

__all__ = [
    "FoldSplitter",
    "FoldInfo",
    "format_folds",
    "KFoldSplitter",
    "ExpandingWindowSplitter",
    "SlidingWindowSplitter",
    "BlockedKFoldSplitter",
    "TooManyFoldsWarning",
]

from splitcv.validator import ParallelCrossValidator, ParallelCrossValidatorModel  # noqa: E402

__all__ += ["ParallelCrossValidator", "ParallelCrossValidatorModel"]

# The leakage auditor lives in splitcv.testing (audit_splitter, assert_no_leakage).
