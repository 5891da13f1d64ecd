"""What every part of the desk shares: the clock, the room, reading rows again, ending a session,
and saying that a poste or a session changed."""
from peewee import JOIN

from appliance import audit, db, events
from appliance.desk.room import Room, running_sessions
from appliance.errors import NotFound
from appliance.models import Poste, Session, Utilisateur
from appliance.protocol import DISPONIBLE, EXPIREE, OCCUPE, RUNNING
from appliance.serializers import poste_fields, poste_json, session_json


class Moves:
    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        self.room = Room()

    def now(self):
        return self.clock.now()

    # -- reading ----------------------------------------------------------------------------

    def poste_state(self, poste_id):
        """(poste, running session or None) from the room, without a query: what a kiosk
        heartbeat needs. (None, None) for a deleted poste."""
        return self.room.get(poste_id)

    def room_json(self, statut=None, site=None):
        now = self.now()
        return [self._poste_json(poste, running, fields, now) for poste, running, fields in self.room.entries()
                if (statut is None or poste.statut == statut) and (site is None or fields['site'] == site)]

    def poste_json(self, poste):
        running = running_sessions([poste.id]).get(poste.id)
        return self._poste_json(poste, running, poste_fields(poste), self.now())

    def _poste_json(self, poste, running, fields, now):
        online, last = self.presence(poste, now)
        return poste_json(fields, now=now, active_session=running, en_ligne=online, derniere_connexion=last,
                          adresse_kiosque=self.kiosk_addresses.get(poste.id))

    def session_json(self, session):
        return session_json(session, self.now())

    # -- rows as stored now -----------------------------------------------------------------

    def _reload(self, poste):
        """The poste as stored now (inside a transaction); 404 if it was deleted meanwhile."""
        fresh = Poste.get_or_none(Poste.id == poste.id)
        if fresh is None:
            raise NotFound('Ce poste n’existe plus.', body={'valid': False})
        return fresh

    def _with_relations(self):
        """Sessions with their visitor and poste in the same query (the audit entry and the JSON
        need both)."""
        return (Session.select(Session, Utilisateur, Poste)
                .join(Utilisateur, JOIN.LEFT_OUTER).switch(Session).join(Poste, JOIN.LEFT_OUTER))

    def _load(self, session_id, skip_locked=False):
        """The session as committed now, locked until the transaction ends (inside writing()): two
        processes cannot both end it or both warn it. With `skip_locked`, None while another
        process holds it."""
        return db.locked(self._with_relations().where(Session.id == session_id), Session,
                         skip=skip_locked).first()

    def _running_on(self, poste):
        return Session.select().where(Session.poste == poste, Session.statut.in_(RUNNING)).first()

    # -- the shared moves -------------------------------------------------------------------

    def _end(self, session, statut, raison, now, *, details, operateur='', ip=None):
        """Close `session` (inside writing()): free its poste, log, tell its kiosk."""
        was_running = session.statut in RUNNING
        self._fold_pause(session, now)   # a paused session ends now, its pause not billed
        session.statut = statut
        session.raison_fin = raison
        session.fin_session = now
        if was_running:
            # The real end: a late sweep never bills time past the deadline.
            session.fin_session = min(now, session.fin_prevue) if session.fin_prevue else now
        session.save()
        self._close_requests(session, now)
        audit.record('expiration' if statut == EXPIREE else 'fermeture', now=now, operateur=operateur,
                     session=session, ip=ip, details=details, metadata={'raison': raison})
        if was_running and session.poste_id:
            poste = session.poste
            if poste.statut == OCCUPE:
                poste.statut = DISPONIBLE
                poste.updated_at = now
                poste.save(only=[Poste.statut, Poste.updated_at])
            self._poste_changed(poste)
            events.publish(events.SESSION_ENDED, poste_id=session.poste_id, session_id=session.id,
                           raison=raison)
        self._session_changed(session, now)
        return session

    def _session_changed(self, session, now):
        if session.poste_id:
            self.room.changed(session.poste_id)
        events.publish(events.SESSION_CHANGED, session=session_json(session, now),
                       avertissements=session.avertissements)

    def _poste_changed(self, poste):
        self.room.changed(poste.id)
        events.publish(events.POSTE_CHANGED, poste_id=poste.id, deleted=False)
