"""The session clock: pure time arithmetic, with the clock passed in.

Times are naive UTC datetimes (what the database stores). `temps_restant` is never stored: it is
computed from the deadline `fin_prevue` = `debut_session` + `duree_initiale` + `temps_ajoute`.

Within one process, "now" follows the monotonic clock from an anchor taken at start, so changing the
system clock while running changes nobody's time (docs/api.md, « Times »). A restart re-anchors on the wall clock.
"""
import math
import time
from datetime import datetime, timedelta, timezone


_EPOCH = datetime(1970, 1, 1)


def epoch_seconds(dt):
    """Seconds since 1970 for a naive UTC datetime."""
    return (dt - _EPOCH).total_seconds()


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class MonotonicClock:
    """Wall-clock time anchored once, then advanced by time.monotonic()."""

    def __init__(self):
        self._wall0 = utcnow()
        self._mono0 = time.monotonic()

    def now(self):
        return self._wall0 + timedelta(seconds=time.monotonic() - self._mono0)

    def monotonic(self):
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to: for exact tests."""

    def __init__(self, start=None):
        self._now = start or datetime(2026, 1, 5, 9, 0, 0)
        self._mono = 1000.0

    def now(self):
        return self._now

    def monotonic(self):
        return self._mono

    def advance(self, seconds):
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


def deadline(debut, duree_initiale, temps_ajoute):
    return debut + timedelta(seconds=duree_initiale + temps_ajoute)


def remaining_seconds(fin_prevue, now):
    """Whole seconds left, rounded up (0 only once the deadline is reached)."""
    left = (fin_prevue - now).total_seconds()
    return max(0, math.ceil(left - 1e-6))


def passed_thresholds(thresholds, remaining):
    """Warning thresholds that no longer lie ahead when `remaining` seconds are left.

    Used when a session starts and when time is added: a threshold at or above the time left is
    marked done (a 60 s session is not warned "1 minute left" at its start), and every threshold
    below it is armed again, so a visitor given more time is warned again as the new end nears.
    """
    return frozenset(t for t in thresholds if t >= remaining)


def due_warnings(fin_prevue, now, thresholds, done):
    """Thresholds whose moment has come and that were not sent yet, largest first."""
    left = (fin_prevue - now).total_seconds()
    return sorted((t for t in thresholds if t not in done and left <= t), reverse=True)


def next_moment(fin_prevue, thresholds, done):
    """The next instant at which something must happen to this session: a warning or its end."""
    moments = [fin_prevue - timedelta(seconds=t) for t in thresholds if t not in done]
    return min(moments + [fin_prevue])


# -- the pause: the deadline stands still ------------------------------------------------------
# While a session is paused, `fin_prevue` keeps the deadline as it was when the pause began, and
# `pause_debut` says when: the time left is read at `pause_debut`, so it does not move. Resuming
# pushes the deadline by the length of the pause.

def paused_remaining(fin_prevue, pause_debut):
    """Whole seconds left of a paused session: frozen at the moment the pause began."""
    return remaining_seconds(fin_prevue, pause_debut)


def resumed_deadline(fin_prevue, pause_debut, now):
    """The deadline after a pause from `pause_debut` to `now`."""
    return fin_prevue + max(timedelta(0), now - pause_debut)


def pause_seconds(pause_debut, now):
    """Whole seconds a pause has lasted (for `duree_pauses`)."""
    return max(0, int((now - pause_debut).total_seconds()))


def pause_deadline(pause_debut, pause_max):
    """When an abandoned pause ends the session (PAUSE_MAX seconds after it began)."""
    return pause_debut + timedelta(seconds=pause_max)


def warning_message(seconds):
    minutes = max(1, round(seconds / 60))
    if seconds < 60:
        return f'Il vous reste {seconds} secondes.'
    return 'Il vous reste 1 minute.' if minutes == 1 else f'Il vous reste {minutes} minutes.'


def parse_iso(text):
    """The naive UTC datetime of an ISO 8601 string written by iso(), or None."""
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None)


def iso(dt):
    """ISO 8601 with an explicit UTC offset, or None."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).isoformat()
