"""The desk's rules: postes, access codes and sessions, kiosk presence.

One place for every change of state of a poste or a session, called by the REST routes, the
WebSocket hub and the scheduler alike. Each change is one write transaction with its audit entry;
what kiosks and the staff feed must hear is published as events once it has committed:

- `session` {session, now}: a session changed (the timekeeper and the staff feed listen);
- `poste` {poste_id}: a poste changed;
- `kiosk` {poste_id, message}: a message for the kiosk of that poste (CONTRACT §4).
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from peewee import JOIN, IntegrityError

from appliance import audit, db, events
from appliance.clock import deadline, due_warnings, passed_thresholds, remaining_seconds, warning_message
from appliance.db import writing
from appliance.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from appliance.models import OPEN_STATUTS, Poste, Session, Utilisateur
from appliance.room import RUNNING, Room, running_sessions
from appliance.serializers import poste_fields, poste_json, session_json, temps_restant
from appliance.throttle import Throttle

CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
CODE_LENGTH = 6
MIN_DURATION, MAX_DURATION = 60, 86400
MIN_ADDED, MAX_ADDED = 60, 4 * 3600
STAFF_STATUTS = ('disponible', 'maintenance', 'hors_ligne')

# Why a session ended (`raison_fin`, and `raison` of close_session).
EXPIRATION = 'expiration'
BY_STAFF = 'fermeture_staff'
BY_VISITOR = 'fermeture_utilisateur'
FOR_MAINTENANCE = 'maintenance'
CODE_EXPIRED = 'code_expire'


def hash_token(token):
    # Kiosk tokens are 256-bit random strings: a plain SHA-256 is enough to keep them unreadable.
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def normalise_code(code):
    return ''.join(str(code).split()).upper()


class Desk:
    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        # Wrong codes: a poste gets 10 tries in 5 minutes, then waits a minute; an address gets 30.
        self.code_failures_by_poste = Throttle(limit=10, window=300, lockout=60, clock=clock)
        self.code_failures_by_address = Throttle(limit=30, window=300, lockout=300, clock=clock)
        self.last_seen = {}   # poste id -> last heartbeat (naive UTC), kept in memory
        self.room = Room()

    def now(self):
        return self.clock.now()

    # -- reading ----------------------------------------------------------------------------

    def running_sessions(self, poste_ids=None):
        return running_sessions(poste_ids)

    def presence(self, poste, now=None):
        """(en_ligne, derniere_connexion) from heartbeats in memory and the stored value."""
        seen = self.last_seen.get(poste.id)
        stored = poste.derniere_connexion
        last = max(d for d in (seen, stored) if d) if (seen or stored) else None
        now = now or self.now()
        online = seen is not None and (now - seen).total_seconds() <= self.config.heartbeat_timeout
        return online, last

    def poste_state(self, poste_id):
        """(poste, running session or None) from the room, without a query: what a kiosk
        heartbeat needs. (None, None) for a deleted poste."""
        return self.room.get(poste_id)

    def room_json(self, statut=None):
        now = self.now()
        return [self._poste_json(poste, running, fields, now) for poste, running, fields in self.room.entries()
                if statut is None or poste.statut == statut]

    def poste_json(self, poste):
        running = self.running_sessions([poste.id]).get(poste.id)
        return self._poste_json(poste, running, poste_fields(poste), self.now())

    def _poste_json(self, poste, running, fields, now):
        online, last = self.presence(poste, now)
        return poste_json(fields, now=now, active_session=running, en_ligne=online, derniere_connexion=last)

    def session_json(self, session):
        return session_json(session, self.now())

    # -- postes -----------------------------------------------------------------------------

    def create_poste(self, fields, *, operateur, ip):
        """Returns (poste, kiosk_token); the token is shown this once and stored hashed."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with writing():
            poste = Poste.create(**fields, kiosk_token_hash=hash_token(token), created_at=now,
                                 updated_at=now)
            audit.record('creation_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} créé ({poste.ip_address}).')
            self._poste_changed(poste)
        return poste, token

    def update_poste(self, poste, fields, *, operateur, ip):
        """Change name, addresses or location (never the status: see set_poste_status)."""
        now = self.now()
        with writing():
            changed = poste.save_changes(fields, now)
            if changed:
                audit.record('modification_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                             details=f'Poste {poste.nom} modifié ({", ".join(changed)}).')
            self._poste_changed(poste)
        return poste

    def delete_poste(self, poste, *, operateur, ip):
        now = self.now()
        with writing():
            if self._running_on(poste) is not None:
                raise Conflict('Une session est en cours sur ce poste : terminez-la avant de le supprimer.')
            # Codes waiting for this poste can no longer be used on it.
            for waiting in Session.select().where(Session.poste == poste, Session.statut == 'en_attente'):
                self._end(waiting, 'terminee', 'poste_supprime', now, operateur=operateur, ip=ip,
                          details=f'Code annulé : le poste {poste.nom} a été supprimé.')
            audit.record('suppression_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} supprimé.')
            poste_id = poste.id
            poste.delete_instance()
            self.room.changed(poste_id)
            self.last_seen.pop(poste_id, None)
            events.publish('poste', poste_id=poste_id, deleted=True)

    def issue_kiosk_token(self, poste, *, operateur, ip):
        """A new kiosk token for `poste`; the old one stops working at once."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with writing():
            poste.kiosk_token_hash = hash_token(token)
            poste.updated_at = now
            poste.save(only=[Poste.kiosk_token_hash, Poste.updated_at])
            audit.record('jeton_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Nouveau jeton de kiosque pour {poste.nom}.')
        events.publish('kiosk_token', poste_id=poste.id)
        return token

    def poste_for_token(self, token):
        if not token or len(token) > 200:
            return None
        poste = Poste.get_or_none(Poste.kiosk_token_hash == hash_token(token))
        if poste is not None and hmac.compare_digest(poste.kiosk_token_hash, hash_token(token)):
            return poste
        return None

    def poste_for_address(self, address):
        return Poste.get_or_none(Poste.ip_address == address) if address else None

    def set_poste_status(self, poste, statut, *, force=False, operateur, ip):
        if statut == 'occupe':
            raise Invalid({'statut': ["Le statut « occupe » est fixé par le système quand une session démarre."]})
        if statut not in STAFF_STATUTS:
            raise Invalid({'statut': [f'Statut inconnu : choisissez parmi {", ".join(STAFF_STATUTS)}.']})
        now = self.now()
        with writing():
            running = self._running_on(poste)
            if running is not None:
                if not force:
                    raise Conflict('Une session est en cours sur ce poste. Envoyez "force": true '
                                   'pour la terminer et changer le statut.',
                                   body={'session': running.id})
                self._end(running, 'terminee', FOR_MAINTENANCE, now, operateur=operateur, ip=ip,
                          details=f'Session terminée : poste {poste.nom} passé en {statut}.')
                poste = self._reload(poste)
            old = poste.statut
            poste.statut = statut
            poste.updated_at = now
            poste.save(only=[Poste.statut, Poste.updated_at])
            audit.record('changement_statut_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Poste {poste.nom} : {old} → {statut}.',
                         metadata={'ancien': old, 'nouveau': statut})
            self._poste_changed(poste)
        return poste

    # -- sessions ---------------------------------------------------------------------------

    def create_session(self, utilisateur, poste, duree, *, notes='', operateur, ip):
        """Issue an access code for `utilisateur`, on `poste` or on any poste (None)."""
        if not MIN_DURATION <= duree <= MAX_DURATION:
            raise Invalid({'duree_initiale': [f'La durée doit être comprise entre {MIN_DURATION} '
                                              f'et {MAX_DURATION} secondes.']})
        now = self.now()
        self.expire_due()
        try:
            with writing():
                if Session.select().where(Session.utilisateur == utilisateur,
                                          Session.statut.in_(OPEN_STATUTS)).exists():
                    raise Conflict('Ce visiteur a déjà une session en cours ou un code en attente.')
                if poste is not None:
                    poste = self._reload(poste)
                    self._check_poste_free(poste)
                session = Session.create(
                    code_acces=self._new_code(), utilisateur=utilisateur, poste=poste,
                    duree_initiale=duree, statut='en_attente', operateur=getattr(operateur, 'username', ''),
                    notes=notes, created_at=now)
                where = f'sur {poste.nom}' if poste else 'sur n’importe quel poste'
                audit.record('generation_code', now=now, operateur=operateur, session=session, ip=ip,
                             details=f'Code {session.code_acces} généré pour {utilisateur.nom_complet} '
                                     f'{where}, {duree // 60} min.',
                             metadata={'code': session.code_acces, 'duree': duree})
                self._session_changed(session, now)
        except IntegrityError:
            # Another request won a race the checks above could not see (PostgreSQL).
            raise Conflict('Ce visiteur ou ce poste vient de recevoir une autre session.') from None
        return session

    def validate_code(self, code, poste, *, source_ip, operateur=''):
        """Start (or resume) the session of `code` on `poste`. Returns the session.

        Raises RateLimited, NotFound (unknown or ended code), Forbidden (code bound to another
        poste) or Conflict (poste unavailable). Failed attempts count against the poste and the
        source address.
        """
        wait = max(self.code_failures_by_poste.retry_after(poste.id),
                   self.code_failures_by_address.retry_after(source_ip))
        if wait:
            raise RateLimited(wait, detail='Trop de codes erronés. Patientez avant de réessayer.',
                              body={'valid': False})
        code = normalise_code(code)
        now = self.now()
        self.expire_due()
        session = (self._with_relations().where(Session.code_acces == code,
                                                Session.statut.in_(OPEN_STATUTS))
                   .first()) if len(code) == CODE_LENGTH else None
        if session is None:
            self._failed_code(poste, source_ip, code, now, 'Code inconnu ou expiré.')
            raise NotFound('Code inconnu ou expiré.', body={'valid': False})
        if session.poste_id is not None and session.poste_id != poste.id:
            self._failed_code(poste, source_ip, code, now, 'Code réservé à un autre poste.')
            raise Forbidden('Ce code est réservé à un autre poste.', body={'valid': False})
        if session.statut in RUNNING:
            events.publish('kiosk', poste_id=poste.id, message=self._started_message(session, now))
            return session  # a rebooted kiosk resumes with the current time
        try:
            with writing():
                poste = self._reload(poste)
                self._check_poste_free(poste, ignore=session)
                started = {
                    'statut': 'active', 'debut_session': now,
                    'fin_prevue': deadline(now, session.duree_initiale, session.temps_ajoute),
                    'avertissements': Session.format_warnings(passed_thresholds(
                        self.config.warning_times, session.duree_initiale + session.temps_ajoute))}
                won = (Session.update(poste=poste, **started)
                       .where(Session.id == session.id, Session.statut == 'en_attente')
                       .execute())
                if not won:
                    raise Conflict('Ce code vient d’être utilisé sur un autre poste.', body={'valid': False})
                for name, value in started.items():
                    setattr(session, name, value)
                session.poste = poste
                poste.statut = 'occupe'
                poste.updated_at = now
                poste.save(only=[Poste.statut, Poste.updated_at])
                if session.utilisateur_id:
                    (Utilisateur.update(nombre_sessions_total=Utilisateur.nombre_sessions_total + 1,
                                        derniere_session=now)
                     .where(Utilisateur.id == session.utilisateur_id).execute())
                audit.record('demarrage_session', now=now, operateur=operateur, session=session,
                             ip=source_ip, details=f'Session démarrée sur {poste.nom} avec le code {code}.')
                self._session_changed(session, now)
                self._poste_changed(poste)
                events.publish('kiosk', poste_id=poste.id, message=self._started_message(session, now))
        except IntegrityError:
            raise Conflict('Une session est déjà en cours sur ce poste.', body={'valid': False}) from None
        self.code_failures_by_poste.reset(poste.id)
        return session

    def add_time(self, session, seconds, *, operateur, ip):
        if not MIN_ADDED <= seconds <= MAX_ADDED:
            raise Invalid({'seconds': [f'Le temps ajouté doit être compris entre {MIN_ADDED} '
                                       f'et {MAX_ADDED} secondes.']})
        now = self.now()
        with writing():
            session = self._load(session.id)
            if session.statut not in OPEN_STATUTS or self._overdue(session, now):
                raise Conflict('Cette session est terminée : impossible d’ajouter du temps.')
            session.temps_ajoute += seconds
            if session.fin_prevue is not None:
                session.fin_prevue += timedelta(seconds=seconds)
                left = remaining_seconds(session.fin_prevue, now)
                session.avertissements = Session.format_warnings(
                    passed_thresholds(self.config.warning_times, left))
            session.save()
            audit.record('ajout_temps', now=now, operateur=operateur, session=session, ip=ip,
                         details=f'{seconds // 60} min ajoutées.', metadata={'secondes': seconds})
            self._session_changed(session, now)
            if session.statut in RUNNING and session.poste_id:
                events.publish('kiosk', poste_id=session.poste_id, message={
                    'action': 'add_time', 'seconds': seconds,
                    'temps_restant': temps_restant(session, now)})
        return session

    def terminate(self, session, *, raison=BY_STAFF, note='', operateur, ip):
        """Staff (or the visitor, raison=BY_VISITOR) ends a session or cancels a waiting code."""
        now = self.now()
        with writing():
            session = self._load(session.id)
            if session.statut not in OPEN_STATUTS:
                raise Conflict('Cette session est déjà terminée.')
            who = 'par le visiteur' if raison == BY_VISITOR else 'par le personnel'
            details = f'Session terminée {who}.' + (f' Motif : {note}' if note else '')
            if note:
                session.notes = (session.notes + '\n' if session.notes else '') + note
            session = self._end(session, 'terminee', raison, now, operateur=operateur, ip=ip,
                                details=details)
        return session

    def end_by_visitor(self, poste, *, ip):
        """The visitor pressed "end my session" on the kiosk of `poste`."""
        session = self._running_on(poste)
        if session is None:
            raise Conflict('Aucune session en cours sur ce poste.')
        return self.terminate(session, raison=BY_VISITOR, operateur='', ip=ip)

    def expire_due(self):
        """End every running session past its deadline and every waiting code past its validity.

        Called by the timekeeper on time, by the scheduler as a safety net, at start-up for what
        ran out while the box was off, and before decisions that depend on it.
        """
        now = self.now()
        stale = now - timedelta(seconds=self.config.pending_code_ttl)
        due = [row.id for row in Session.select(Session.id).where(
            (Session.statut.in_(RUNNING) & (Session.fin_prevue <= now)) |
            ((Session.statut == 'en_attente') & (Session.created_at <= stale)))]
        ended = []
        for session_id in due:
            with writing():
                session = self._load(session_id)
                if self._expire_if_due(session, now):
                    ended.append(session)
                elif session.statut == 'en_attente' and session.created_at <= stale:
                    ended.append(self._end(session, 'expiree', CODE_EXPIRED, now,
                                           details='Code expiré sans avoir été utilisé.'))
        return ended

    def process_due(self, session_ids):
        """The timekeeper's work for sessions whose next moment has come: end those past their
        deadline, warn the others. One query and one transaction for the whole batch; returns the
        sessions as they now are."""
        now = self.now()
        with writing():
            sessions = list(self._with_relations().where(Session.id.in_(list(session_ids))))
            for session in sessions:
                if not self._expire_if_due(session, now):
                    self._warn(session, now)
        return sessions

    def _expire_if_due(self, session, now):
        if session.statut in RUNNING and session.fin_prevue is not None and session.fin_prevue <= now:
            self._end(session, 'expiree', EXPIRATION, now, details='Temps écoulé : session expirée.')
            return True
        return False

    def send_due_warnings(self, session):
        """Warn the kiosk of each threshold whose moment has come; returns the thresholds sent."""
        with writing():
            return self._warn(self._load(session.id), self.now())

    def _warn(self, session, now):
        """Inside writing(): send the warnings now due for `session`; returns their thresholds."""
        if session.statut != 'active' or session.fin_prevue is None:
            return []
        done = session.warnings_done
        due = due_warnings(session.fin_prevue, now, self.config.warning_times, done)
        if not due:
            return []
        session.avertissements = Session.format_warnings(done | set(due))
        session.save(only=[Session.avertissements])
        # Several thresholds due at once (late start, catch-up): the kiosk hears the nearest.
        threshold = min(due)
        audit.record('avertissement', now=now, session=session,
                     details=warning_message(threshold), metadata={'seuil': threshold})
        events.publish('kiosk', poste_id=session.poste_id, message={
            'action': 'warning', 'temps_restant': remaining_seconds(session.fin_prevue, now),
            'seuil': threshold, 'message': warning_message(threshold)})
        self._session_changed(session, now)
        return due

    # -- kiosk presence ---------------------------------------------------------------------

    def kiosk_seen(self, poste):
        """A heartbeat or a connection: in memory only (no write per heartbeat)."""
        first = poste.id not in self.last_seen or not self.presence(poste)[0]
        self.last_seen[poste.id] = self.now()
        if first or poste.statut == 'hors_ligne':
            self.kiosk_connected(poste)

    def kiosk_connected(self, poste, ip=None):
        """The kiosk came (back) online: store the time, lift `hors_ligne`, log it once."""
        now = self.now()
        self.last_seen[poste.id] = now
        with writing():
            poste = self._reload(poste)
            poste.derniere_connexion = now
            fields = [Poste.derniere_connexion]
            if poste.statut == 'hors_ligne':
                poste.statut = 'occupe' if self._running_on(poste) else 'disponible'
                poste.updated_at = now
                fields += [Poste.statut, Poste.updated_at]
            poste.save(only=fields)
            audit.record('connexion_poste', now=now, poste=poste, ip=ip,
                         details=f'Le kiosque de {poste.nom} est en ligne.')
            self._poste_changed(poste)

    def kiosk_disconnected(self, poste_id):
        """Called once the poste has been silent for HEARTBEAT_TIMEOUT, or its socket closed for good."""
        now = self.now()
        self.last_seen.pop(poste_id, None)
        with writing():
            poste = Poste.get_or_none(Poste.id == poste_id)
            if poste is None:
                return
            fields = []
            if poste.statut in ('disponible', 'occupe'):
                poste.statut = 'hors_ligne'  # never overrides maintenance
                poste.updated_at = now
                fields = [Poste.statut, Poste.updated_at]
            if fields:
                poste.save(only=fields)
            audit.record('deconnexion_poste', now=now, poste=poste,
                         details=f'Le kiosque de {poste.nom} ne répond plus.')
            self._poste_changed(poste)

    def load_presence(self):
        """At start-up: postes that were online count as seen at their last stored connection, so
        one whose kiosk does not come back is marked hors_ligne after HEARTBEAT_TIMEOUT."""
        for poste in Poste.select().where(Poste.statut.in_(('disponible', 'occupe')),
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

    # -- internals --------------------------------------------------------------------------

    def _new_code(self):
        for _ in range(50):
            code = ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if not Session.select().where(Session.code_acces == code,
                                          Session.statut.in_(OPEN_STATUTS)).exists():
                return code
        raise Conflict('Impossible de générer un code unique : trop de codes en attente.')

    def _reload(self, poste):
        """The poste as stored now (inside a transaction); 404 if it was deleted meanwhile."""
        fresh = Poste.get_or_none(Poste.id == poste.id)
        if fresh is None:
            raise NotFound('Ce poste n’existe plus.', body={'valid': False})
        return fresh

    def _running_on(self, poste):
        return Session.select().where(Session.poste == poste, Session.statut.in_(RUNNING)).first()

    def _overdue(self, session, now):
        return session.statut in RUNNING and session.fin_prevue is not None and session.fin_prevue <= now

    def _check_poste_free(self, poste, ignore=None):
        """409 unless a session may start on `poste` (`ignore`: the waiting session to start)."""
        if poste.statut == 'maintenance':
            raise Conflict(f'Le poste {poste.nom} est en maintenance.', body={'valid': False})
        statuts = {s.statut for s in Session.select(Session.statut).where(
            Session.poste == poste, Session.statut.in_(OPEN_STATUTS))}
        if statuts & set(RUNNING):
            raise Conflict(f'Le poste {poste.nom} est déjà occupé.', body={'valid': False})
        if ignore is None and 'en_attente' in statuts:
            raise Conflict(f'Un code est déjà en attente pour le poste {poste.nom}.')

    def _with_relations(self):
        """Sessions with their visitor and poste in the same query (the audit entry and the JSON
        need both)."""
        return (Session.select(Session, Utilisateur, Poste)
                .join(Utilisateur, JOIN.LEFT_OUTER).switch(Session).join(Poste, JOIN.LEFT_OUTER))

    def _load(self, session_id):
        return self._with_relations().where(Session.id == session_id).first()

    def _failed_code(self, poste, source_ip, code, now, why):
        self.code_failures_by_poste.failure(poste.id)
        self.code_failures_by_address.failure(source_ip)
        with writing():
            audit.record('echec_code', now=now, poste=poste, ip=source_ip, details=why,
                         metadata={'code': code[:CODE_LENGTH * 2]})

    def _end(self, session, statut, raison, now, *, details, operateur='', ip=None):
        """Close `session` (inside writing()): free its poste, log, tell the kiosk."""
        was_running = session.statut in RUNNING
        session.statut = statut
        session.raison_fin = raison
        session.fin_session = now
        if was_running:
            # The real end: a late sweep never bills time past the deadline.
            session.fin_session = min(now, session.fin_prevue) if session.fin_prevue else now
        session.save()
        action = 'expiration' if statut == 'expiree' else 'fermeture'
        audit.record(action, now=now, operateur=operateur, session=session, ip=ip, details=details,
                     metadata={'raison': raison})
        if was_running and session.poste_id:
            poste = session.poste
            if poste.statut == 'occupe':
                poste.statut = 'disponible'
                poste.updated_at = now
                poste.save(only=[Poste.statut, Poste.updated_at])
            self._poste_changed(poste)
            events.publish('kiosk', poste_id=session.poste_id,
                           message={'action': 'close_session', 'raison': raison, 'session': session.id})
        self._session_changed(session, now)
        return session

    def _started_message(self, session, now):
        return {'action': 'session_started', 'session': session_json(session, now),
                'temps_restant': temps_restant(session, now)}

    def _session_changed(self, session, now):
        if session.poste_id:
            self.room.changed(session.poste_id)
        events.publish('session', session=session_json(session, now), session_id=session.id,
                       record=session)

    def _poste_changed(self, poste):
        self.room.changed(poste.id)
        events.publish('poste', poste_id=poste.id)
