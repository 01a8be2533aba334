"""Drop-in getters: what code written for pyspark's ``CrossValidator(Model)`` asks of a validator.

Spark's validators have ``numFolds``, ``seed`` and ``foldCol`` Params; ours keep the folds in a
splitter. :class:`SplitterGetters` answers ``getNumFolds()``, ``getSeed()`` and ``getFoldCol()``
from the splitter where it has the Param, and otherwise raises a ``ValueError`` that names the
splitter's class and what to call instead. The validator and its model share it.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["SplitterGetters"]


class SplitterGetters:
    """``getNumFolds``/``getSeed``/``getFoldCol`` answered from the ``splitter`` Param."""

    def _splitter_for(self, getter: str) -> Any:
        if not self.isDefined("splitter") or self.getOrDefault("splitter") is None:  # type: ignore[attr-defined]
            raise ValueError(
                f"{type(self).__name__}.{getter}() answers from the splitter, and none is set: "
                "set one, e.g. splitter=KFoldSplitter(numFolds=3)"
            )
        return self.getOrDefault("splitter")  # type: ignore[attr-defined]

    def getNumFolds(self) -> int:
        """The splitter's ``numFolds``; for a fitted model whose splitter has none set (a window
        splitter that keeps every fold the data allows), the number of folds it was fitted on."""
        splitter = self._splitter_for("getNumFolds")
        try:
            return splitter.getNumFolds()  # numFolds, or what the Params fix (CPCV: C(numGroups, numTestGroups))
        except ValueError:
            pass
        folds = getattr(self, "folds", None)
        if folds:
            return len(folds)
        name = type(splitter).__name__
        raise ValueError(
            f"{type(self).__name__}.getNumFolds(): {name} has no numFolds set, so its number of folds depends "
            f"on the data: call getSplitter().countFolds(dataset)"
            + (", or set numFolds on the splitter" if splitter.hasParam("numFolds") else "")
        )

    def getSeed(self) -> int:
        """The splitter's ``seed`` (random k-fold); other splitters draw nothing at random."""
        splitter = self._splitter_for("getSeed")
        if splitter.hasParam("seed"):
            return splitter.getOrDefault("seed")
        raise ValueError(
            f"{type(self).__name__}.getSeed(): {type(splitter).__name__} has no seed: it draws nothing at random "
            f"({_what_makes_folds(splitter)}). Call getSplitter().explainParams() to see its Params"
        )

    def getFoldCol(self) -> str:
        """The splitter's ``foldCol``, or ``""`` when it draws folds at random (pyspark's default)."""
        splitter = self._splitter_for("getFoldCol")
        if splitter.hasParam("foldCol"):
            value: Optional[str] = splitter.getOrDefault("foldCol") if splitter.isDefined("foldCol") else None
            return value or ""
        raise ValueError(
            f"{type(self).__name__}.getFoldCol(): {type(splitter).__name__} has no foldCol ({_what_makes_folds(splitter)}). "
            "Call getSplitter().explainParams() to see its Params"
            + (", or getSplitter().getTimeCol() for its time column" if splitter.hasParam("timeCol") else "")
        )


def _what_makes_folds(splitter: Any) -> str:
    time_col = splitter._time_column() if hasattr(splitter, "_time_column") else None
    return f"its folds follow timeCol={time_col!r}" if time_col else "its folds follow its own rules"
