"""Fires warnings and expiries on the second, connected kiosk or not.

One greenlet keeps the next moment of every running session in memory (from clock.next_moment)
and sleeps until the earliest. Every session_changed fact carries the session as committed: its
moment is recomputed and the greenlet woken. Nothing is written per session per tick: only a
warning sent or a session ended is stored.

Several processes on one PostgreSQL database each keep every session (the relay brings the others'
facts), so each wakes at every moment; the desk locks the rows it works on and skips those another
process holds, so each warning and each end happens once, and on time even when the process that
started the session has died.
"""
import logging
from datetime import timedelta

import gevent
from gevent.event import Event

from appliance import db, events
from appliance.clock import next_moment, parse_iso, pause_deadline
from appliance.models import Session
from appliance.protocol import ACTIVE, SUSPENDUE

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0  # also bounds how late a missed wake-up could be
BATCH = 100
RETRY_AFTER, MAX_RETRIES = 0.5, 20


class Timekeeper:
    def __init__(self, desk, metrics):
        self.desk = desk
        self.metrics = metrics
        self.moments = {}     # session id -> next moment (naive UTC)
        self.retries = {}     # session id -> times another process held it when it was due
        self.wake = Event()
        self.greenlet = None
        self.outage = False   # the database was out of reach at the last tick (said once)
        self.closing = None   # the library's next closing (naive UTC), and when to announce it
        self.notice_at = None

    def start(self):
        self._load_all()
        events.subscribe(self._on_event, events.SESSION_CHANGED)
        events.subscribe(self._on_resync, events.RESYNC)
        events.subscribe(self._on_hours, events.HOURS_CHANGED)
        self._plan_closing()
        self.greenlet = gevent.spawn(self._run)

    def _load_all(self):
        """Every running session's next moment, read from the database (at start, and after the
        relay missed facts from other processes)."""
        moments = {}
        with db.database.connection_context():
            for session in Session.select().where(Session.statut.in_((ACTIVE, SUSPENDUE))):
                moment = self._moment(session.statut, session.fin_prevue, session.warnings_done,
                                      session.pause_debut)
                if moment is not None:
                    moments[session.id] = moment
        self.moments = moments
        self.wake.set()

    def stop(self):
        events.unsubscribe(self._on_event)
        events.unsubscribe(self._on_resync)
        events.unsubscribe(self._on_hours)
        if self.greenlet is not None:
            self.greenlet.kill()

    def is_alive(self):
        return self.greenlet is not None and not self.greenlet.dead

    def _on_resync(self, kind, payload):
        gevent.spawn(self._load_all)
        gevent.spawn(self._plan_closing)

    def _on_hours(self, kind, payload):
        gevent.spawn(self._plan_closing)

    def _plan_closing(self, after=None):
        """Two more due moments, for the whole library: the closing notice and the closing
        (desk/policy.py). Read again when the hours change and after each closing."""
        with db.database.connection_context():
            closing, notice = self.desk.next_closing(after)
        self.closing = closing
        self.notice_at = closing - timedelta(seconds=notice) if closing is not None and notice > 0 else None
        self.wake.set()

    def _library_moments(self, now):
        if self.notice_at is not None and self.notice_at <= now:
            notice_at, self.notice_at = self.notice_at, None
            if self.desk.announce_closing(self.closing):
                self.metrics.observe_lateness('closing', (now - notice_at).total_seconds())
        if self.closing is not None and self.closing <= now:
            closing = self.closing
            self.desk.close_library(closing)
            self._plan_closing(max(now, closing))

    def _on_event(self, kind, payload):
        session = payload['session']
        self._schedule(session['id'], session['statut'], parse_iso(session['fin_prevue']),
                       Session.parse_warnings(payload['avertissements']), parse_iso(session.get('pause_debut')))
        self.wake.set()

    def _schedule(self, session_id, statut, fin_prevue, warnings_done, pause_debut=None):
        self.retries.pop(session_id, None)
        moment = self._moment(statut, fin_prevue, warnings_done, pause_debut)
        if moment is not None:
            self.moments[session_id] = moment
        else:
            self.moments.pop(session_id, None)

    def _moment(self, statut, fin_prevue, warnings_done, pause_debut):
        """The next moment of a session: a warning or its end while active; while paused, only
        the end of an abandoned pause (PAUSE_MAX): no warning, no end of time."""
        if statut == ACTIVE and fin_prevue is not None:
            return next_moment(fin_prevue, self.desk.config.warning_times, warnings_done)
        if statut == SUSPENDUE and pause_debut is not None:
            return pause_deadline(pause_debut, self.desk.config.pause_max)
        return None

    def _run(self):
        while True:
            try:
                with db.database.connection_context():
                    self._tick()
                self.outage = False
            except db.UNAVAILABLE as exc:   # the moments stay: they are due again once it is back
                if not self.outage:
                    log.warning('timekeeper: database unavailable (%s); trying every second', db.first_line(exc))
                self.outage = True
                gevent.sleep(MAX_SLEEP)
            except Exception:  # keep time for everyone else even if one session fails
                log.exception('timekeeper tick failed')
                gevent.sleep(MAX_SLEEP)
            upcoming = min([m for m in (self.notice_at, self.closing) if m is not None] +
                           list(self.moments.values()), default=None)
            delay = MAX_SLEEP if upcoming is None else (upcoming - self.desk.now()).total_seconds()
            self.wake.clear()
            if delay > 0:
                self.wake.wait(min(delay, MAX_SLEEP))

    def _tick(self):
        now = self.desk.now()
        due = {sid: moment for sid, moment in self.moments.items() if moment <= now}
        self._library_moments(now)
        # Many sessions can fall due together (a class that started at once): one query and one
        # commit per batch instead of several per session (synchronous=FULL on an SD card).
        ids = list(due)
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            sessions = self.desk.process_due(batch)
            for session in sessions:
                kind = 'warning' if session.statut in (ACTIVE, SUSPENDUE) else 'close'
                self.metrics.observe_lateness(kind, (now - due[session.id]).total_seconds())
                # The facts did it too; this also covers "nothing to do".
                self._schedule(session.id, session.statut, session.fin_prevue, session.warnings_done,
                               session.pause_debut)
            for session_id in set(batch) - {s.id for s in sessions}:
                self._retry_later(session_id, now)
            gevent.sleep(0)   # let requests and heartbeats in between batches

    def _retry_later(self, session_id, now):
        """A session process_due did not return: another process (on the same PostgreSQL) was
        working on it, and its facts will reschedule it; try again shortly in case that process
        died before committing. One that keeps not coming back was deleted: forget it."""
        tries = self.retries.get(session_id, 0) + 1
        if tries > MAX_RETRIES:
            self.moments.pop(session_id, None)
            self.retries.pop(session_id, None)
        else:
            self.retries[session_id] = tries
            self.moments[session_id] = now + timedelta(seconds=RETRY_AFTER)
