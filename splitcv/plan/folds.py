"""The plan of one fold: half-open index ranges on a sorted axis of distinct time points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

Range = tuple[int, int]


@dataclass(frozen=True)
class Fold:
    """Training and validation as half-open ``[start, stop)`` ranges of axis indexes.

    Training may be several ranges (blocked k-fold trains on both sides of its validation block);
    validation is always one contiguous range.
    """

    train: tuple[Range, ...]
    validation: Range

    def train_indexes(self) -> Iterator[int]:
        for start, stop in self.train:
            yield from range(start, stop)

    def validation_indexes(self) -> range:
        return range(*self.validation)

    @property
    def train_size(self) -> int:
        return sum(stop - start for start, stop in self.train)

    @property
    def validation_size(self) -> int:
        return self.validation[1] - self.validation[0]
