"""Fires warnings and expiries on the second, connected kiosk or not.

One greenlet keeps the next moment of every running session in memory (from clock.next_moment)
and sleeps until the earliest. Every session_changed fact carries the session as committed: its
moment is recomputed and the greenlet woken. Nothing is written per session per tick: only a warning sent
or a session ended is stored.
"""
import logging

import gevent
from gevent.event import Event

from appliance import db, events
from appliance.clock import next_moment, parse_iso
from appliance.models import Session
from appliance.protocol import ACTIVE

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0  # also bounds how late a missed wake-up could be
BATCH = 100


class Timekeeper:
    def __init__(self, desk, metrics):
        self.desk = desk
        self.metrics = metrics
        self.moments = {}     # session id -> next moment (naive UTC)
        self.wake = Event()
        self.greenlet = None

    def start(self):
        with db.database.connection_context():
            for session in Session.select().where(Session.statut == ACTIVE):
                self._schedule(session.id, session.statut, session.fin_prevue, session.warnings_done)
        events.subscribe(self._on_event, events.SESSION_CHANGED)
        self.greenlet = gevent.spawn(self._run)

    def stop(self):
        events.unsubscribe(self._on_event)
        if self.greenlet is not None:
            self.greenlet.kill()

    def is_alive(self):
        return self.greenlet is not None and not self.greenlet.dead

    def _on_event(self, kind, payload):
        session = payload['session']
        self._schedule(session['id'], session['statut'], parse_iso(session['fin_prevue']),
                       Session.parse_warnings(payload['avertissements']))
        self.wake.set()

    def _schedule(self, session_id, statut, fin_prevue, warnings_done):
        if statut == ACTIVE and fin_prevue is not None:
            self.moments[session_id] = next_moment(fin_prevue, self.desk.config.warning_times, warnings_done)
        else:
            self.moments.pop(session_id, None)

    def _run(self):
        while True:
            try:
                with db.database.connection_context():
                    self._tick()
            except Exception:  # keep time for everyone else even if one session fails
                log.exception('timekeeper tick failed')
                gevent.sleep(MAX_SLEEP)
            upcoming = min(self.moments.values(), default=None)
            delay = MAX_SLEEP if upcoming is None else (upcoming - self.desk.now()).total_seconds()
            self.wake.clear()
            if delay > 0:
                self.wake.wait(min(delay, MAX_SLEEP))

    def _tick(self):
        now = self.desk.now()
        due = {sid: moment for sid, moment in self.moments.items() if moment <= now}
        # Many sessions can fall due together (a class that started at once): one query and one
        # commit per batch instead of several per session (synchronous=FULL on an SD card).
        ids = list(due)
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            sessions = self.desk.process_due(batch)
            for session in sessions:
                kind = 'warning' if session.statut == ACTIVE else 'close'
                self.metrics.observe_lateness(kind, (now - due[session.id]).total_seconds())
                # The facts did it too; this also covers "nothing to do".
                self._schedule(session.id, session.statut, session.fin_prevue, session.warnings_done)
            for session_id in set(batch) - {s.id for s in sessions}:
                self.moments.pop(session_id, None)   # deleted meanwhile
            gevent.sleep(0)   # let requests and heartbeats in between batches
