"""The fit-listener registry (splitcv.listeners): listeners see fits start and end, and never steer them.
Pure Python: the fit is a function here."""

from __future__ import annotations

import pytest

from splitcv.listeners import FitListenerWarning, add_fit_listener, fit_listeners, remove_fit_listener, run_fit


@pytest.fixture
def registered():
    """Listeners added through this fixture are removed after the test, whatever happens."""
    added = []

    def add(listener):
        added.append(listener)
        add_fit_listener(listener)
        return listener

    yield add
    for listener in added:
        remove_fit_listener(listener)


def test_listeners_see_start_and_end_in_order(registered):
    events = []

    def make(name):
        def listener(validator, dataset):
            events.append((name, "start", validator, dataset))
            return lambda model, error: events.append((name, "end", model, error))
        return listener

    registered(make("a"))
    registered(make("b"))
    assert run_fit("v", "d", lambda dataset: events.append("fit") or "m") == "m"
    assert events == [("a", "start", "v", "d"), ("b", "start", "v", "d"), "fit", ("a", "end", "m", None), ("b", "end", "m", None)]


def test_a_failed_fit_is_reported_and_raises_as_it_would(registered):
    ends = []
    registered(lambda v, d: lambda model, error: ends.append((model, error)))
    failure = ValueError("bad fit")

    def fit(dataset):
        raise failure

    with pytest.raises(ValueError, match="bad fit") as raised:
        run_fit("v", "d", fit)
    assert raised.value is failure and ends == [(None, failure)]


@pytest.mark.parametrize("where", ["start", "end"])
def test_a_listener_that_raises_is_a_warning_and_the_fit_goes_on(registered, where):
    def listener(validator, dataset):
        if where == "start":
            raise RuntimeError("listener broke")

        def finish(model, error):
            raise RuntimeError("listener broke")
        return finish

    registered(listener)
    seen = []
    registered(lambda v, d: lambda model, error: seen.append(model))  # the next listener still hears
    with pytest.warns(FitListenerWarning, match="RuntimeError: listener broke; the fit is not affected"):
        assert run_fit("v", "d", lambda dataset: "m") == "m"
    assert seen == ["m"]


def test_a_listener_is_added_once_and_removed(registered):
    def listener(validator, dataset):
        return None

    registered(listener)
    add_fit_listener(listener)
    assert fit_listeners().count(listener) == 1
    remove_fit_listener(listener)
    remove_fit_listener(listener)  # removing one that is not there is no error
    assert listener not in fit_listeners()
