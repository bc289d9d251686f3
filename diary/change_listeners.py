"""Who hears about appointment changes, inside the transaction that makes them.

`diary.services._record` calls `notify(change)` right after saving each `AppointmentChange`,
so a listener's writes (the integrations outbox, patient email) commit or roll back with the
change itself. Listeners register once, from their app's `AppConfig.ready()`. A listener that
raises aborts the change: it must not call out to the network (schedule that with
`transaction.on_commit`).
"""

from collections.abc import Callable

_listeners: list[Callable] = []


def register(listener: Callable) -> None:
    """Add `listener(change)`; registering the same callable twice keeps one."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister(listener: Callable) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def notify(change) -> None:
    """Tell every listener about `change`, in registration order, in the caller's transaction."""
    for listener in list(_listeners):
        listener(change)
