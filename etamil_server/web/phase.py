"""The phases of one HTTP/1.1 connection, and the table of moves between them (as h11's
``_state.py`` names its states; here one machine covers the reading side and the connection's end,
since the answering side is a queue: ``web/protocol.py``).

::

    IDLE --BEGIN--> HEAD --HEADERS--> BODY --COMPLETE--> IDLE      (one request read)
    IDLE, HEAD, BODY --STOP--> DONE       no more input is parsed (a refusal, an upgrade, EOF);
                                          what was read is still answered
    any open phase --CLOSE--> CLOSING     the last response is written; the socket closes when it
                                          is flushed (or lingers after a refusal)
    any phase --LOST--> CLOSED            the transport is gone

A move the table does not hold is a defect of the protocol, not of the client: :func:`advance`
raises :class:`PhaseError` for it.
"""

from __future__ import annotations

import enum


class Phase(enum.Enum):
    IDLE = "idle"  # between requests: nothing of the next one has arrived (keep-alive timeout)
    HEAD = "head"  # the request line and headers are arriving (header timeout, read timeout)
    BODY = "body"  # the headers are in, the body is arriving (read timeout)
    DONE = "done"  # reading stopped; requests already read are still answered
    CLOSING = "closing"  # the last response is written; waiting for the socket to close
    CLOSED = "closed"  # connection_lost has run

    # members are singletons: hash them by identity in C, not by name in Python (Enum's
    # __hash__), since the table is looked up a few times per request
    __hash__ = object.__hash__


class Event(enum.Enum):
    BEGIN = "begin"  # the first byte of a request line
    HEADERS = "headers"  # the header block ended
    COMPLETE = "complete"  # the message (with its body) ended
    STOP = "stop"  # parse no more input
    CLOSE = "close"  # close after what is written
    LOST = "lost"  # the transport reported the connection gone

    __hash__ = object.__hash__


class PhaseError(RuntimeError):
    """A move that the table does not allow (a defect in the protocol)."""


_ENDINGS = {Event.STOP: Phase.DONE, Event.CLOSE: Phase.CLOSING, Event.LOST: Phase.CLOSED}

#: phase -> {event: next phase}
TRANSITIONS: dict[Phase, dict[Event, Phase]] = {
    Phase.IDLE: {Event.BEGIN: Phase.HEAD, **_ENDINGS},
    Phase.HEAD: {Event.HEADERS: Phase.BODY, **_ENDINGS},
    Phase.BODY: {Event.COMPLETE: Phase.IDLE, **_ENDINGS},
    Phase.DONE: {Event.STOP: Phase.DONE, Event.CLOSE: Phase.CLOSING, Event.LOST: Phase.CLOSED},
    Phase.CLOSING: {Event.STOP: Phase.CLOSING, Event.CLOSE: Phase.CLOSING, Event.LOST: Phase.CLOSED},
    Phase.CLOSED: {Event.STOP: Phase.CLOSED, Event.CLOSE: Phase.CLOSED, Event.LOST: Phase.CLOSED},
}

#: phases in which input is still parsed
READING = frozenset({Phase.IDLE, Phase.HEAD, Phase.BODY})


def advance(phase: Phase, event: Event) -> Phase:
    """The phase after ``event`` in ``phase``; :class:`PhaseError` when the table has no such move."""
    try:
        return TRANSITIONS[phase][event]
    except KeyError:
        raise PhaseError(f"no move from {phase.name} on {event.name}") from None
