"""What planners tell users: the changes that would help (only those that are possible), and the
warning for plans with very many folds."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Sequence

__all__ = ["MANY_FOLDS", "TooManyFoldsWarning", "advise", "warn_if_many_folds"]

#: Plans with more folds than this warn (:class:`TooManyFoldsWarning`) unless ``numFolds`` was set.
MANY_FOLDS = 100


class TooManyFoldsWarning(UserWarning):
    """A splitter without ``numFolds`` planned more than :data:`MANY_FOLDS` folds on this data.

    A window splitter with neither ``numFolds`` nor ``initialWindow`` makes one fold per ``step``
    over the whole series (2,283 on the weekly CO2 series in :mod:`splitcv.data` with ``horizon=1``), and the validator
    fits every param map on each. The warning comes from planning, before any model is fitted.
    """


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def advise(
    scale: Any,
    lower: Sequence[tuple[str, Any, int]] = (),
    increase: Sequence[tuple[str, int, int]] = (),
    more_data: bool = True,
) -> str:
    """One sentence of advice naming only the changes that are possible.

    ``lower`` holds ``(label, size, minimum)``: suggested when ``scale.can_lower(size, minimum)``
    (``horizon=1`` cannot be lowered; neither can ``'1 day'`` on a DATE axis). ``increase`` holds
    ``(label, value, maximum)``: suggested when ``value < maximum``.

    >>> from splitcv.plan import CountScale
    >>> advise(CountScale(10), lower=[("horizon", 3, 1), ("gap", 0, 0)])
    'Lower horizon, or use more data.'
    >>> advise(CountScale(10), lower=[("horizon", 1, 1), ("gap", 0, 0)])
    'Use more data.'
    >>> advise(CountScale(10), lower=[("gap", 2, 0)], increase=[("numFolds", 3, 10)], more_data=False)
    'Lower gap, or raise numFolds.'
    """
    parts = []
    lowered = [label for label, size, minimum in lower if size is not None and scale.can_lower(size, minimum)]
    if lowered:
        parts.append(f"lower {_join(lowered)}")
    raised = [label for label, value, maximum in increase if value < maximum]
    if raised:
        parts.append(f"raise {_join(raised)}")
    if more_data:
        parts.append("use more data")
    if not parts:
        return ""
    text = ", or ".join(parts)
    return text[0].upper() + text[1:] + "."


def warn_if_many_folds(count: int, owner: str, context: str, initial_window: Any) -> None:
    """Warn, once per planning, when a plan without ``numFolds`` has more than :data:`MANY_FOLDS` folds."""
    if count <= MANY_FOLDS:
        return
    fix = "set numFolds=... to keep only the last folds (numFolds=5, say)"
    if initial_window is None:
        fix += ", or initialWindow=... to start where a model has enough history"
    else:
        fix += ", or a longer step or initialWindow"
    warnings.warn(
        f"{owner} makes {count} folds on this data ({context}), and a validator fits every param map on "
        f"each of them: {fix}. (Plans of more than {MANY_FOLDS} folds without numFolds warn; silence this with "
        "warnings.filterwarnings('ignore', category=splitcv.TooManyFoldsWarning) if you mean it.)",
        TooManyFoldsWarning,
        stacklevel=_caller_level(),
    )


def _caller_level() -> int:
    """The stack level of the first frame outside splitcv and pyspark: the user's own line."""
    pyspark = sys.modules.get("pyspark")
    libraries = tuple(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules["splitcv"], pyspark)
        if module is not None and getattr(module, "__file__", None)
    )
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(libraries):
        frame, level = frame.f_back, level + 1
    return level
