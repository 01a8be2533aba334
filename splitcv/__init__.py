"""splitcv: leak-free, parallel cross-validation for Spark ML.

The public names below are imported on first use (PEP 562), not by ``import splitcv``: so
``import splitcv.plan`` and ``import splitcv.sklearn`` (scikit-learn splitters over pandas and numpy
data) import no pyspark, and work where pyspark is not installed. ``from splitcv import
ParallelCrossValidator`` and ``splitcv.KFoldSplitter`` work as always.
"""

from __future__ import annotations

import importlib as _importlib
import importlib.util as _importlib_util
from typing import Any as _Any

__version__ = "0.1.0"

# Every public name and the module that defines it.
_PUBLIC = {
    "FoldSplitter": "splitcv.splitters",
    "FoldInfo": "splitcv.plan.describe",
    "format_folds": "splitcv.plan.describe",
    "KFoldSplitter": "splitcv.splitters",
    "StratifiedKFoldSplitter": "splitcv.splitters",
    "GroupKFoldSplitter": "splitcv.splitters",
    "ExpandingWindowSplitter": "splitcv.splitters",
    "SlidingWindowSplitter": "splitcv.splitters",
    "BlockedKFoldSplitter": "splitcv.splitters",
    "CombinatorialPurgedSplitter": "splitcv.splitters",
    "TooManyFoldsWarning": "splitcv.plan.advice",
    "SmallClassWarning": "splitcv.splitters",
    "ParallelCrossValidator": "splitcv.validator",
    "ParallelCrossValidatorModel": "splitcv.validator",
    "MetricWarning": "splitcv.selection",
    "SingleClassFoldWarning": "splitcv.validator",
    "OneOf": "splitcv.one_of",
    "nested_cross_validate": "splitcv.nested",
    "NestedResult": "splitcv.nested",
    "RandomParamGridBuilder": "splitcv.search",
    "uniform": "splitcv.search",
    "loguniform": "splitcv.search",
    "randint": "splitcv.search",
    "choice": "splitcv.search",
    "TaskResult": "splitcv.progress",
}

__all__ = list(_PUBLIC)

# The leakage auditor lives in splitcv.testing (audit_splitter, assert_no_leakage); the scikit-learn
# splitters in splitcv.sklearn.


def __getattr__(name: str) -> _Any:
    """Import a public name's module on first use, and keep the name here so the next use is free.

    A submodule's name (``splitcv.splitters`` after a bare ``import splitcv``) imports that
    submodule, as the eager imports did before."""
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and _importlib_util.find_spec(f"{__name__}.{name}") is not None:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
