"""Fires warnings and expiries on the second, connected kiosk or not.

One greenlet keeps the next moment of every running session in memory (from clock.next_moment)
and sleeps until the earliest. A `session` event marks that session for reloading and wakes it up.
Nothing is written per session per tick: only a warning sent or a session ended is stored.
"""
import logging

import gevent
from gevent.event import Event

from appliance import db, events
from appliance.clock import next_moment
from appliance.models import Session

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0  # also bounds how late a missed wake-up could be
BATCH = 100


class Timekeeper:
    def __init__(self, desk):
        self.desk = desk
        self.moments = {}     # session id -> next moment (naive UTC)
        self.dirty = set()    # session ids to reload
        self.wake = Event()
        self.greenlet = None
        self.lateness = []    # seconds late of each warning/expiry fired (for metrics and benchmarks)

    def start(self):
        with db.database.connection_context():
            for session in Session.select().where(Session.statut == 'active'):
                self._schedule(session)
        events.subscribe(self._on_event)
        self.greenlet = gevent.spawn(self._run)

    def stop(self):
        events.unsubscribe(self._on_event)
        if self.greenlet is not None:
            self.greenlet.kill()

    def is_alive(self):
        return self.greenlet is not None and not self.greenlet.dead

    def _on_event(self, kind, payload):
        if kind == 'session':
            self.dirty.add(payload['session_id'])
            self.wake.set()

    def _schedule(self, session):
        if session.statut == 'active' and session.fin_prevue is not None:
            self.moments[session.id] = next_moment(session.fin_prevue, self.desk.config.warning_times,
                                                   session.warnings_done)
        else:
            self.moments.pop(session.id, None)

    def _run(self):
        while True:
            try:
                with db.database.connection_context():
                    self._tick()
            except Exception:  # keep time for everyone else even if one session fails
                log.exception('timekeeper tick failed')
                gevent.sleep(MAX_SLEEP)
            now = self.desk.now()
            upcoming = min(self.moments.values(), default=None)
            delay = MAX_SLEEP if upcoming is None else (upcoming - now).total_seconds()
            self.wake.clear()
            if delay > 0 and not self.dirty:
                self.wake.wait(min(delay, MAX_SLEEP))

    def _tick(self):
        while self.dirty:
            session_id = self.dirty.pop()
            session = Session.get_or_none(Session.id == session_id)
            if session is None:
                self.moments.pop(session_id, None)
            else:
                self._schedule(session)
        now = self.desk.now()
        due = [sid for sid, moment in self.moments.items() if moment <= now]
        if not due:
            return
        for session_id in due:
            self.lateness.append((now - self.moments[session_id]).total_seconds())
        del self.lateness[:-10000]
        # Many sessions can fall due together (a class that started at once): one commit per batch
        # instead of one per session, which matters with synchronous=FULL on an SD card.
        for start in range(0, len(due), BATCH):
            with db.writing():
                self._fire(due[start:start + BATCH], now)

    def _fire(self, session_ids, now):
        if Session.select().where(Session.id.in_(session_ids), Session.statut == 'active',
                                  Session.fin_prevue <= now).exists():
            self.desk.expire_due()
        for session_id in session_ids:
            session = Session.get_or_none(Session.id == session_id)
            if session is not None and session.statut == 'active':
                self.desk.send_due_warnings(session)
                session = Session.get_by_id(session_id)
            if session is None:
                self.moments.pop(session_id, None)
            else:
                self._schedule(session)
