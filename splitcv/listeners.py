"""Listeners told of every :class:`~splitcv.ParallelCrossValidator` fit (how ``splitcv.mlflow.autolog``
sees fits, without patching any class).

A listener is a callable ``listener(validator, dataset)``, called in the fitting thread when a fit
starts. It returns None (this fit does not interest it) or a callable ``finish(model, error)``,
called when that fit ends: ``finish(model, None)`` after a successful fit, ``finish(None, error)``
when the fit raised ``error`` (which then propagates as it would have). Listeners watch and never
steer: one that raises is reported with a :class:`FitListenerWarning`, and the fit goes on and
returns (or raises) exactly what it would have without it. With no listener registered, a fit
does nothing more than call its own code.

>>> seen = []
>>> def listener(validator, dataset):
...     return lambda model, error: seen.append((validator, dataset, model, error))
>>> add_fit_listener(listener)
>>> run_fit("validator", "data", lambda dataset: f"model of {dataset}")
'model of data'
>>> remove_fit_listener(listener)
>>> seen
[('validator', 'data', 'model of data', None)]
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, Optional

__all__ = ["add_fit_listener", "remove_fit_listener", "fit_listeners", "run_fit", "FitListenerWarning"]

Finish = Callable[[Any, Optional[BaseException]], None]
FitListener = Callable[[Any, Any], Optional[Finish]]

_listeners: list[FitListener] = []
_lock = threading.Lock()


class FitListenerWarning(UserWarning):
    """A fit listener raised; the fit was not affected."""


def add_fit_listener(listener: FitListener) -> None:
    """Tell ``listener`` of every fit from now on (adding one twice adds it once)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def remove_fit_listener(listener: FitListener) -> None:
    """Stop telling ``listener`` of fits (a listener that was not added is ignored)."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def fit_listeners() -> tuple[FitListener, ...]:
    """The listeners registered now, in the order they were added."""
    with _lock:
        return tuple(_listeners)


def run_fit(validator: Any, dataset: Any, fit: Callable[[Any], Any]) -> Any:
    """``fit(dataset)``, with the registered listeners told when it starts and ends."""
    listeners = fit_listeners()
    if not listeners:
        return fit(dataset)
    finishes = [finish for finish in (_guarded(listener, validator, dataset) for listener in listeners) if finish]
    try:
        model = fit(dataset)
    except BaseException as error:
        for finish in finishes:
            _guarded(finish, None, error)
        raise
    for finish in finishes:
        _guarded(finish, model, None)
    return model


def _guarded(function: Callable[..., Any], *args: Any) -> Any:
    """Call a listener (or its finish); what it raises is a warning, not the fit's failure."""
    try:
        return function(*args)
    except Exception as error:  # a KeyboardInterrupt is the user's, and stops the fit
        name = getattr(function, "__qualname__", repr(function))
        warnings.warn(
            f"the fit listener {name} raised {type(error).__name__}: {error}; the fit is not affected",
            FitListenerWarning,
            stacklevel=4,
        )
        return None
