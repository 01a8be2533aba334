"""Spark's ``xxhash64`` of one value, in pure Python: the key group k-fold breaks ties with.

:class:`~splitcv.GroupKFoldSplitter` packs groups largest first and breaks ties between groups of
equal size by ``xxhash64`` of the group value (seed 42, Spark's default). For the scikit-learn
adapter to pack the same groups into the same folds, it hashes each distinct group the way Spark
hashes a column of the type the same values have there: XXH64 (the reference algorithm, which Spark
implements) over the value's bytes:

* integers of 64 bits (``int64``, Python ``int``: Spark's ``LONG``): the 8 little-endian bytes;
  of 32 bits or fewer (``int32``, ``int16``, ``int8``: ``INT``, ``SHORT``, ``BYTE``), 4 bytes;
* booleans: the 4 bytes of 1 or 0;
* floats (``DOUBLE``, ``FLOAT``): the 8 bytes of the value as a double, ``-0.0`` as ``0.0``
  (the splitter adds ``0.0`` to floating-point groups before hashing);
* strings: their UTF-8 bytes.

Only the distinct groups are hashed, one at a time, so the speed of pure Python does not matter.

>>> xxhash64_long(1), xxhash64_string("a")
(-7001672635703045582, -8582455328737087284)
"""

from __future__ import annotations

import struct

__all__ = ["xxhash64", "xxhash64_long", "xxhash64_int", "xxhash64_double", "xxhash64_string", "SPARK_SEED"]

#: The seed of Spark's ``xxhash64`` function.
SPARK_SEED = 42

_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_MASK = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _MASK, 31) * _P1) & _MASK


def _merge(acc: int, lane: int) -> int:
    return ((acc ^ _round(0, lane)) * _P1 + _P4) & _MASK


def xxhash64(data: bytes, seed: int = SPARK_SEED) -> int:
    """XXH64 of ``data``, as the signed 64-bit integer Spark returns."""
    n, i, seed = len(data), 0, seed & _MASK
    if n >= 32:
        v1, v2, v3, v4 = (seed + _P1 + _P2) & _MASK, (seed + _P2) & _MASK, seed, (seed - _P1) & _MASK
        while i + 32 <= n:
            a, b, c, d = struct.unpack_from("<4Q", data, i)
            v1, v2, v3, v4 = _round(v1, a), _round(v2, b), _round(v3, c), _round(v4, d)
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _MASK
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _MASK
    h = (h + n) & _MASK
    while i + 8 <= n:
        h = (_rotl(h ^ _round(0, struct.unpack_from("<Q", data, i)[0]), 27) * _P1 + _P4) & _MASK
        i += 8
    if i + 4 <= n:
        h = (_rotl(h ^ ((struct.unpack_from("<I", data, i)[0] * _P1) & _MASK), 23) * _P2 + _P3) & _MASK
        i += 4
    while i < n:
        h = (_rotl(h ^ ((data[i] * _P5) & _MASK), 11) * _P1) & _MASK
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _MASK
    h ^= h >> 29
    h = (h * _P3) & _MASK
    h ^= h >> 32
    return h - (1 << 64) if h >= 1 << 63 else h


def xxhash64_long(value: int) -> int:
    """Spark's ``xxhash64`` of a ``LONG``."""
    return xxhash64(struct.pack("<q", value))


def xxhash64_int(value: int) -> int:
    """Spark's ``xxhash64`` of an ``INT`` (and of a ``SHORT``, a ``BYTE``, a ``BOOLEAN`` as 1 or 0)."""
    return xxhash64(struct.pack("<i", value))


def xxhash64_double(value: float) -> int:
    """Spark's ``xxhash64`` of a ``DOUBLE`` plus ``0.0`` (so ``-0.0`` hashes as ``0.0``)."""
    return xxhash64(struct.pack("<d", value + 0.0))


def xxhash64_string(value: str) -> int:
    """Spark's ``xxhash64`` of a ``STRING``."""
    return xxhash64(value.encode("utf-8"))
