"""Kiosk presence: heartbeats kept in memory, a poste going online or offline, the periodic flush.

A heartbeat writes nothing: the time is kept in memory and stored for every poste a few times per
HEARTBEAT_TIMEOUT (flush_presence). Only a poste coming online or falling silent writes, with its
audit entry. The stored time is what other processes on the same database see of a kiosk connected
here, and what tells a poste whose process died from one that is merely connected elsewhere: a poste
is online while its latest sign of life, seen here or stored by anyone, is recent.
"""
from datetime import timedelta

from appliance import audit, db
from appliance.db import writing
from appliance.groupcommit import GroupCommit
from appliance.models import Poste
from appliance.protocol import DISPONIBLE, HORS_LIGNE, OCCUPE


class Presence:
    def __init__(self, config, clock):
        super().__init__(config, clock)
        self.last_seen = {}   # poste id -> last heartbeat (naive UTC), kept in memory
        # poste id -> the address its kiosk last connected from: shown next to the stored
        # ip_address, so that a poste whose address changed (no DHCP reservation) stands out.
        self.kiosk_addresses = {}
        self._connections = GroupCommit(self._store_connection)   # one commit for kiosks arriving together

    def presence(self, poste, now=None):
        """(en_ligne, derniere_connexion) from heartbeats in memory and the stored value."""
        seen = self.last_seen.get(poste.id)
        stored = poste.derniere_connexion
        last = max(d for d in (seen, stored) if d) if (seen or stored) else None
        now = now or self.now()
        online = last is not None and (now - last).total_seconds() <= self.config.heartbeat_timeout
        return online, last

    def kiosk_seen(self, poste, address=None):
        """A heartbeat, or a connection from `address`: in memory only (no write per heartbeat)."""
        first = not self.presence(poste)[0]   # silent for longer than HEARTBEAT_TIMEOUT, or never seen
        self.last_seen[poste.id] = self.now()
        moved = address is not None and self.kiosk_addresses.get(poste.id) != address
        if address is not None:
            self.kiosk_addresses[poste.id] = address
        if first or poste.statut == HORS_LIGNE:
            self.kiosk_connected(poste)
        elif moved:
            self._poste_changed(poste)   # the dashboards show the new address

    def kiosk_connected(self, poste, ip=None):
        """The kiosk came (back) online: store the time, lift `hors_ligne`, log it once. Kiosks
        connecting together share one transaction (groupcommit.py)."""
        now = self.now()
        self.last_seen[poste.id] = now
        self._connections(poste, ip, now)

    def _store_connection(self, poste, ip, now):
        with writing():
            poste = self._reload(poste)
            poste.derniere_connexion = now
            fields = [Poste.derniere_connexion]
            if poste.statut == HORS_LIGNE:
                poste.statut = OCCUPE if self._running_on(poste) else DISPONIBLE
                poste.updated_at = now
                fields += [Poste.statut, Poste.updated_at]
            poste.save(only=fields)
            audit.record('connexion_poste', now=now, poste=poste, ip=ip,
                         details=f'Le kiosque de {poste.nom} est en ligne.')
            self._poste_changed(poste)

    def kiosk_disconnected(self, poste_id):
        """The poste has been silent for HEARTBEAT_TIMEOUT (see silent_postes): `hors_ligne` and
        one audit entry, unless a fresher sign of life was stored meanwhile (its kiosk is
        connected to another process) or another process is already marking it."""
        now = self.now()
        limit = now - timedelta(seconds=self.config.heartbeat_timeout)
        seen_here = self.last_seen.pop(poste_id, None)
        with writing():
            poste = db.locked(Poste.select().where(Poste.id == poste_id), Poste, skip=True).first()
            if poste is None:
                return   # deleted, or another process is deciding for it
            if poste.derniere_connexion is not None and poste.derniere_connexion >= limit:
                return   # alive, connected elsewhere
            if poste.statut in (DISPONIBLE, OCCUPE):
                poste.statut = HORS_LIGNE  # never overrides maintenance
                poste.updated_at = now
                poste.save(only=[Poste.statut, Poste.updated_at])
            elif seen_here is None:
                return   # already hors_ligne or in maintenance, and not ours to report
            audit.record('deconnexion_poste', now=now, poste=poste,
                         details=f'Le kiosque de {poste.nom} ne répond plus.')
            self._poste_changed(poste)

    def flush_presence(self):
        """Store the in-memory heartbeat times (a periodic task, not one write per heartbeat)."""
        seen = dict(self.last_seen)
        if not seen:
            return
        # One statement run for every poste (executemany): a thousand kiosks must not hold the
        # write lock, and the whole process, while a thousand queries are built one by one.
        sql, _ = Poste.update(derniere_connexion=None).where(Poste.id == 0).sql()
        rows = [(Poste.derniere_connexion.db_value(when), poste_id) for poste_id, when in seen.items()]
        with writing():
            db.database.cursor().executemany(sql, rows)

    def silent_postes(self):
        """Ids of postes whose last sign of life is older than HEARTBEAT_TIMEOUT: seen here long
        ago, or online by their status but stored long ago (a kiosk of a process that stopped,
        or that never came back after the box restarted)."""
        limit = self.now() - timedelta(seconds=self.config.heartbeat_timeout)
        silent = {pid for pid, when in list(self.last_seen.items()) if when < limit}
        fresh_here = {pid for pid, when in list(self.last_seen.items()) if when >= limit}
        stored = Poste.select(Poste.id).where(Poste.statut.in_((DISPONIBLE, OCCUPE)),
                                              Poste.derniere_connexion < limit)
        silent.update(row.id for row in stored if row.id not in fresh_here)
        return sorted(silent)
