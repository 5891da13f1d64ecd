"""The session clock as pure logic, to the millisecond, with an injected clock."""
import time
from datetime import datetime, timedelta

import pytest

from appliance import clock
from appliance.clock import (FakeClock, MonotonicClock, deadline, due_warnings, next_moment,
                             passed_thresholds, remaining_seconds, warning_message)
from tests.support import log_actions

T0 = datetime(2026, 3, 1, 14, 0, 0)
THRESHOLDS = (600, 300, 60)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_remaining_rounds_up_and_stops_at_zero():
    end = at(100)
    assert remaining_seconds(end, at(0)) == 100
    assert remaining_seconds(end, at(0.001)) == 100
    assert remaining_seconds(end, at(99.999)) == 1
    assert remaining_seconds(end, at(100)) == 0
    assert remaining_seconds(end, at(250)) == 0


def test_deadline_adds_initial_and_added_time():
    assert deadline(T0, 3600, 900) == at(4500)


def test_thresholds_passed_at_start():
    assert passed_thresholds(THRESHOLDS, 3600) == frozenset()
    assert passed_thresholds(THRESHOLDS, 400) == {600}
    assert passed_thresholds(THRESHOLDS, 60) == {600, 300, 60}  # a 60 s session: no "1 minute" at start


def test_due_warnings_to_the_millisecond():
    end = at(3600)
    assert due_warnings(end, at(2999.999), THRESHOLDS, frozenset()) == []
    assert due_warnings(end, at(3000), THRESHOLDS, frozenset()) == [600]
    assert due_warnings(end, at(3300), THRESHOLDS, {600}) == [300]
    assert due_warnings(end, at(3550), THRESHOLDS, frozenset()) == [600, 300, 60]


def test_next_moment_walks_through_thresholds_then_the_end():
    end = at(3600)
    assert next_moment(end, THRESHOLDS, frozenset()) == at(3000)
    assert next_moment(end, THRESHOLDS, {600}) == at(3300)
    assert next_moment(end, THRESHOLDS, {600, 300}) == at(3540)
    assert next_moment(end, THRESHOLDS, {600, 300, 60}) == end


def test_warning_messages_are_french():
    assert warning_message(600) == 'Il vous reste 10 minutes.'
    assert warning_message(300) == 'Il vous reste 5 minutes.'
    assert warning_message(60) == 'Il vous reste 1 minute.'
    assert warning_message(30) == 'Il vous reste 30 secondes.'


def test_monotonic_clock_ignores_wall_clock_changes(monkeypatch):
    """A change of the system clock while running changes nobody's time (docs/api.md, « Times »)."""
    c = MonotonicClock()
    first = c.now()
    # The system clock jumps a day ahead: the process's clock does not follow.
    monkeypatch.setattr(clock, 'utcnow', lambda: first + timedelta(days=1))
    time.sleep(0.01)
    second = c.now()
    assert timedelta(0) < second - first < timedelta(seconds=1)


def test_fake_clock_advances_both():
    c = FakeClock(T0)
    c.advance(1.5)
    assert c.now() == at(1.5) and c.monotonic() == 1001.5


# -- the desk applies it ---------------------------------------------------------------------

@pytest.fixture
def running(client, ctx, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=900)
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    from appliance.models import Session
    return lambda: Session.get_by_id(session['id'])


def test_desk_sends_each_warning_once(ctx, running):
    ctx.clock.advance(299)
    assert ctx.desk.send_due_warnings(running()) == []
    ctx.clock.advance(1)
    assert ctx.desk.send_due_warnings(running()) == [600]
    assert ctx.desk.send_due_warnings(running()) == []
    ctx.clock.advance(300)
    assert ctx.desk.send_due_warnings(running()) == [300]
    ctx.clock.advance(240)
    assert ctx.desk.send_due_warnings(running()) == [60]
    assert log_actions(action='avertissement') == ['avertissement'] * 3


def test_add_time_rearms_warnings_that_lie_ahead_again(client, ctx, running, admin_token):
    ctx.clock.advance(600)                        # 300 s left: the 10- and 5-minute warnings went out
    assert ctx.desk.send_due_warnings(running()) == [600, 300]
    client.post(f'/api/sessions/{running().id}/add-time/', {'minutes': 10}, token=admin_token)
    assert running().warnings_done == set()       # 900 s left: all three lie ahead again
    ctx.clock.advance(300)
    assert ctx.desk.send_due_warnings(running()) == [600]
    ctx.clock.advance(300)
    assert ctx.desk.send_due_warnings(running()) == [300]
