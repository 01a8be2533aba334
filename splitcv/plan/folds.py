"""The plan of one fold: half-open index ranges on a sorted axis of distinct time points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

Range = tuple[int, int]


@dataclass(frozen=True)
class Fold:
    """Training and validation as half-open ``[start, stop)`` ranges of axis indexes.

    Training may be several ranges (blocked k-fold trains on both sides of its validation block).
    Validation is one contiguous range, ``validation``, except in combinatorial CV, whose later
    validation segments are ``more_validation``; :attr:`segments` lists them all in time order.
    """

    train: tuple[Range, ...]
    validation: Range
    more_validation: tuple[Range, ...] = ()

    @property
    def segments(self) -> tuple[Range, ...]:
        return (self.validation, *self.more_validation)

    def train_indexes(self) -> Iterator[int]:
        for start, stop in self.train:
            yield from range(start, stop)

    def validation_indexes(self) -> Iterator[int]:
        for start, stop in self.segments:
            yield from range(start, stop)

    @property
    def train_size(self) -> int:
        return sum(stop - start for start, stop in self.train)

    @property
    def validation_size(self) -> int:
        return sum(stop - start for start, stop in self.segments)
