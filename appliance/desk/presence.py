"""Kiosk presence: heartbeats kept in memory, a poste going online or offline, the periodic flush.

A heartbeat writes nothing: the time is kept in memory and stored once a minute for every poste
(flush_presence). Only a poste coming online or falling silent writes, with its audit entry.
"""
from datetime import timedelta

from appliance import audit, db
from appliance.db import writing
from appliance.models import Poste
from appliance.protocol import DISPONIBLE, HORS_LIGNE, OCCUPE


class Presence:
    def __init__(self, config, clock):
        super().__init__(config, clock)
        self.last_seen = {}   # poste id -> last heartbeat (naive UTC), kept in memory
        # poste id -> the address its kiosk last connected from: shown next to the stored
        # ip_address, so that a poste whose address changed (no DHCP reservation) stands out.
        self.kiosk_addresses = {}

    def presence(self, poste, now=None):
        """(en_ligne, derniere_connexion) from heartbeats in memory and the stored value."""
        seen = self.last_seen.get(poste.id)
        stored = poste.derniere_connexion
        last = max(d for d in (seen, stored) if d) if (seen or stored) else None
        now = now or self.now()
        online = seen is not None and (now - seen).total_seconds() <= self.config.heartbeat_timeout
        return online, last

    def kiosk_seen(self, poste, address=None):
        """A heartbeat, or a connection from `address`: in memory only (no write per heartbeat)."""
        first = poste.id not in self.last_seen or not self.presence(poste)[0]
        self.last_seen[poste.id] = self.now()
        moved = address is not None and self.kiosk_addresses.get(poste.id) != address
        if address is not None:
            self.kiosk_addresses[poste.id] = address
        if first or poste.statut == HORS_LIGNE:
            self.kiosk_connected(poste)
        elif moved:
            self._poste_changed(poste)   # the dashboards show the new address

    def kiosk_connected(self, poste, ip=None):
        """The kiosk came (back) online: store the time, lift `hors_ligne`, log it once."""
        now = self.now()
        self.last_seen[poste.id] = now
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
        """Called once the poste has been silent for HEARTBEAT_TIMEOUT."""
        now = self.now()
        self.last_seen.pop(poste_id, None)
        with writing():
            poste = Poste.get_or_none(Poste.id == poste_id)
            if poste is None:
                return
            if poste.statut in (DISPONIBLE, OCCUPE):
                poste.statut = HORS_LIGNE  # never overrides maintenance
                poste.updated_at = now
                poste.save(only=[Poste.statut, Poste.updated_at])
            audit.record('deconnexion_poste', now=now, poste=poste,
                         details=f'Le kiosque de {poste.nom} ne répond plus.')
            self._poste_changed(poste)

    def load_presence(self):
        """At start-up: postes that were online count as seen at their last stored connection, so
        one whose kiosk does not come back is marked hors_ligne after HEARTBEAT_TIMEOUT."""
        for poste in Poste.select().where(Poste.statut.in_((DISPONIBLE, OCCUPE)),
                                          Poste.derniere_connexion.is_null(False)):
            self.last_seen.setdefault(poste.id, poste.derniere_connexion)

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
        """Ids of postes whose last heartbeat is older than HEARTBEAT_TIMEOUT."""
        limit = self.now() - timedelta(seconds=self.config.heartbeat_timeout)
        return [pid for pid, when in list(self.last_seen.items()) if when < limit]
