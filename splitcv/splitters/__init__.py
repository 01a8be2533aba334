"""Fold splitters: the base class and the built-in strategies."""

from splitcv.splitters.base import FoldInfo, FoldSplitter, format_folds
from splitcv.splitters.blocked import BlockedKFoldSplitter
from splitcv.splitters.combinatorial import CombinatorialPurgedSplitter
from splitcv.splitters.group import GroupKFoldSplitter
from splitcv.splitters.kfold import KFoldSplitter
from splitcv.splitters.stratified import SmallClassWarning, StratifiedKFoldSplitter
from splitcv.splitters.windows import ExpandingWindowSplitter, SlidingWindowSplitter

__all__ = [
    "FoldSplitter",
    "FoldInfo",
    "format_folds",
    "KFoldSplitter",
    "StratifiedKFoldSplitter",
    "GroupKFoldSplitter",
    "SmallClassWarning",
    "ExpandingWindowSplitter",
    "SlidingWindowSplitter",
    "BlockedKFoldSplitter",
    "CombinatorialPurgedSplitter",
]
