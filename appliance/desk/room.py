"""The room: every poste with its running session, kept in memory between changes.

Kiosk heartbeats and dashboards read it constantly; it changes only through the desk, which marks
the postes it touches. Only those are read again, so a burst of sessions starting at once costs one
small query each, not a reload of the whole room.
"""
from peewee import JOIN

from appliance import db
from appliance.models import Poste, Session, Utilisateur
from appliance.serializers import poste_fields

RUNNING = ('active', 'suspendue')


def running_sessions(poste_ids=None):
    """{poste_id: running session, with its visitor} for the given postes (all when None)."""
    query = (Session.select(Session, Utilisateur).join(Utilisateur, JOIN.LEFT_OUTER)
             .where(Session.statut.in_(RUNNING)))
    if poste_ids is not None:
        query = query.where(Session.poste.in_(list(poste_ids)))
    return {s.poste_id: s for s in query}


class Room:
    def __init__(self):
        self._entries = None   # poste id -> (poste, running session or None, stored fields)
        self._order = []       # poste ids by name
        self._stale = set()

    def entries(self):
        """[(poste, running session or None, stored fields)] by poste name."""
        self._refresh()
        return [self._entries[poste_id] for poste_id in self._order]

    def get(self, poste_id):
        """(poste, running session or None); (None, None) for a poste that does not exist."""
        self._refresh()
        entry = self._entries.get(poste_id)
        return (entry[0], entry[1]) if entry else (None, None)

    def changed(self, poste_id):
        """Read this poste again: now, and once the current transaction has committed (a read in
        between would otherwise keep the state from before the change)."""
        self._stale.add(poste_id)
        db.on_commit(lambda: self._stale.add(poste_id))

    def reset(self):
        """Read everything again (a change that may touch many postes)."""
        self._entries = None
        db.on_commit(self._forget_all)

    def _forget_all(self):
        self._entries = None

    def _refresh(self):
        if self._entries is None:
            self._stale.clear()
            postes = list(Poste.select())
            ids = None
        elif self._stale:
            ids, self._stale = self._stale, set()
            postes = list(Poste.select().where(Poste.id.in_(list(ids))))
        else:
            return
        running = running_sessions(ids)
        entries = {} if ids is None else self._entries
        names = {pid: entries[pid][0].nom for pid in ids or () if pid in entries}
        for poste_id in ids or ():
            entries.pop(poste_id, None)
        for poste in postes:
            entries[poste.id] = (poste, running.get(poste.id), poste_fields(poste))
        self._entries = entries
        # Sort again only when a poste came, went or was renamed (not on every session change).
        if ids is None or names != {pid: entries[pid][0].nom for pid in ids if pid in entries}:
            self._order = sorted(entries, key=lambda pid: (entries[pid][0].nom, pid))
