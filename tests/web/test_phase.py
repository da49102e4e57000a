"""The table of a connection's phases."""

from __future__ import annotations

import pytest

from etamil_server.web.phase import READING, TRANSITIONS, Event, Phase, PhaseError, advance


def test_one_request_goes_round_from_idle_to_idle():
    phase = Phase.IDLE
    for event in (Event.BEGIN, Event.HEADERS, Event.COMPLETE):
        phase = advance(phase, event)
    assert phase is Phase.IDLE


def test_every_phase_has_a_row_and_every_phase_can_be_lost():
    assert set(TRANSITIONS) == set(Phase)
    for phase in Phase:
        assert advance(phase, Event.LOST) is Phase.CLOSED


def test_stopping_while_reading_keeps_the_connection_for_the_answers():
    for phase in READING:
        assert advance(phase, Event.STOP) is Phase.DONE
    assert advance(Phase.DONE, Event.CLOSE) is Phase.CLOSING


@pytest.mark.parametrize(
    "phase, event",
    [(Phase.IDLE, Event.HEADERS), (Phase.HEAD, Event.COMPLETE), (Phase.BODY, Event.BEGIN), (Phase.CLOSING, Event.BEGIN)],
)
def test_a_move_the_table_does_not_hold_is_a_phase_error(phase, event):
    with pytest.raises(PhaseError, match=f"no move from {phase.name} on {event.name}"):
        advance(phase, event)
