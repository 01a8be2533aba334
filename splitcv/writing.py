"""Writing one Params stage to a directory: the pieces every splitcv writer shares.

Kept apart from :mod:`splitcv.persistence` (the validator's layout) so that the splitters, which
the validator's module imports, can use them without an import cycle.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from pyspark.errors import AnalysisException
from pyspark.ml.param import Params
from pyspark.ml.util import DefaultParamsWriter, MLWriter

__all__ = ["is_connect", "save_stage", "clear_for_overwrite", "refusing_existing_save", "SplitterWriter"]


def is_connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def save_stage(stage: Params, path: str, overwrite: bool) -> None:
    """``stage.write().save(path)``, overwriting over Spark Connect too."""
    writer = stage.write()
    if overwrite:
        from pyspark.sql.utils import is_remote

        if is_remote() and type(writer).__name__ != "RemoteMLWriter":
            # A Python stage's DefaultParamsWriter deletes the old directory through the JVM
            # gateway, which a Connect client lacks; the Connect server's ML helper deletes it
            # instead (as pyspark does for a Pipeline). Connect's own writers overwrite themselves.
            from pyspark.ml.connect.readwrite import RemoteMLWriter

            RemoteMLWriter.handleOverwrite(path, True)
        else:
            writer = writer.overwrite()
    writer.save(path)


def clear_for_overwrite(writer: MLWriter, path: str) -> None:
    """Delete an earlier save at ``path`` for ``writer.overwrite()``, on classic or Connect."""
    if is_connect(writer.sparkSession):
        # A Connect client has no JVM gateway to delete the old directory with; the server's ML
        # helper deletes it, so no part of an earlier save is left behind.
        from pyspark.ml.connect.readwrite import RemoteMLWriter

        RemoteMLWriter.handleOverwrite(path, True)
    else:
        writer._handleOverwrite(path)


@contextlib.contextmanager
def refusing_existing_save(path: str, instance: Params) -> Iterator[None]:
    """Turn Spark's ``[PATH_ALREADY_EXISTS]`` into a ``FileExistsError`` naming ``path`` and the fix.

    Wraps the first write of a save, ``path/metadata`` (mode "error"): Spark refuses it when an
    earlier save is there, while analysing the write, so nothing has been written yet. Spark
    Connect raises the same error class from the server, so no JVM gateway is needed to check.
    """
    try:
        yield
    except AnalysisException as error:
        condition = getattr(error, "getCondition", error.getErrorClass)()
        if condition != "PATH_ALREADY_EXISTS" and "PATH_ALREADY_EXISTS" not in str(error):
            raise
        raise FileExistsError(
            f"{path!r} already exists and holds a save; {type(instance).__name__}.write().save() does not "
            f"replace it. Replace it with write().overwrite().save({path!r}), or save to another path"
        ) from None


class SplitterWriter(DefaultParamsWriter):
    """A splitter's writer: pyspark's own, refusing an existing save the way the validator's does,
    and overwriting over Spark Connect too (pyspark's deletes the old save through the JVM gateway)."""

    def save(self, path: str) -> None:
        if self.shouldOverwrite and is_connect(self.sparkSession):
            clear_for_overwrite(self, path)
            self.saveImpl(path)
            return
        with refusing_existing_save(path, self.instance):  # a Params save writes its metadata only
            super().save(path)
