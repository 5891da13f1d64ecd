"""Sessions: access codes, starting on a poste, adding time, warnings, ending and expiry."""
import secrets
from datetime import timedelta

from peewee import IntegrityError

from appliance import audit, db, events
from appliance.clock import (deadline, due_warnings, passed_thresholds, pause_deadline, remaining_seconds,
                             warning_message)
from appliance.db import writing
from appliance.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from appliance.models import Poste, Session, Utilisateur
from appliance.protocol import (ACTIVE, CODE_ALPHABET, CODE_LENGTH, EN_ATTENTE, EXPIREE, MAINTENANCE,
                                OCCUPE, OPEN_STATUTS, RUNNING, SUSPENDUE, TERMINEE, Reason, normalise_code)
from appliance.serializers import session_json, temps_restant
from appliance.throttle import Throttle

MIN_DURATION, MAX_DURATION = 60, 86400
MIN_ADDED, MAX_ADDED = 60, 4 * 3600


class Sessions:
    def __init__(self, config, clock):
        super().__init__(config, clock)
        # Wrong codes: a poste gets 10 tries in 5 minutes, then waits a minute; an address gets 30.
        self.code_failures_by_poste = Throttle(limit=10, window=300, lockout=60, clock=clock)
        self.code_failures_by_address = Throttle(limit=30, window=300, lockout=300, clock=clock)

    def create_session(self, utilisateur, poste, duree, *, notes='', operateur, ip, site=None, force=False):
        """Issue an access code for `utilisateur`, on `poste` or on any poste (None)."""
        if not MIN_DURATION <= duree <= MAX_DURATION:
            raise Invalid({'duree_initiale': [f'La durée doit être comprise entre {MIN_DURATION} '
                                              f'et {MAX_DURATION} secondes.']})
        self.check_minor(utilisateur)   # privacy.py
        now = self.now()
        site = self.session_site(poste, site, operateur)
        self.expire_due()
        self.check_open(now)
        try:
            with writing():
                self.check_policy(utilisateur, duree, now, force=force, operateur=operateur, ip=ip)
                if Session.select().where(Session.utilisateur == utilisateur,
                                          Session.statut.in_(OPEN_STATUTS)).exists():
                    raise Conflict('Ce visiteur a déjà une session en cours ou un code en attente.')
                if poste is not None:
                    poste = self._reload(poste)
                    self._check_poste_free(poste)
                session = Session.create(
                    code_acces=self._new_code(), utilisateur=utilisateur, poste=poste,
                    duree_initiale=duree, statut=EN_ATTENTE, operateur=getattr(operateur, 'username', ''),
                    notes=notes, created_at=now, site=site)
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

    def validate_code(self, code, poste, *, source_ip, operateur='', charte_version=None):
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
        if session.site_id is not None and poste.site_id is not None and session.site_id != poste.site_id:
            self._failed_code(poste, source_ip, code, now, 'Code d’un autre site.')
            raise Forbidden('Ce code a été donné dans un autre site.', body={'valid': False})
        if session.statut == SUSPENDUE:
            # A rebooted kiosk re-presenting the code of a paused session hears that it is paused:
            # only the visitor resumes it (`resume` with the code, or staff).
            self._paused_again(session, now)
            return session
        if session.statut in RUNNING:
            self._started(session, now)
            return session  # a rebooted kiosk resumes with the current time
        self.check_open(now, body={'valid': False})
        self.charter_gate(session, poste, charte_version, ip=source_ip)   # privacy.py
        try:
            with writing():
                poste = self._reload(poste)
                self._check_poste_free(poste, ignore=session)
                fin_prevue, capped = self.cap_at_closing(
                    deadline(now, session.duree_initiale, session.temps_ajoute), now)
                started = {
                    'statut': ACTIVE, 'debut_session': now, 'fin_prevue': fin_prevue,
                    'limite_fermeture': capped,
                    'avertissements': Session.format_warnings(passed_thresholds(
                        self.config.warning_times, remaining_seconds(fin_prevue, now)))}
                won = (Session.update(poste=poste, **started)
                       .where(Session.id == session.id, Session.statut == EN_ATTENTE)
                       .execute())
                if not won:
                    raise Conflict('Ce code vient d’être utilisé sur un autre poste.', body={'valid': False})
                for name, value in started.items():
                    setattr(session, name, value)
                session.poste = poste
                poste.statut = OCCUPE
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
                self._started(session, now)
        except IntegrityError:
            raise Conflict('Une session est déjà en cours sur ce poste.', body={'valid': False}) from None
        self.code_failures_by_poste.reset(poste.id)
        return session

    def add_time(self, session, seconds, *, operateur, ip, force=False):
        if not MIN_ADDED <= seconds <= MAX_ADDED:
            raise Invalid({'seconds': [f'Le temps ajouté doit être compris entre {MIN_ADDED} '
                                       f'et {MAX_ADDED} secondes.']})
        now = self.now()
        with writing():
            session = self._load(session.id)
            if session.statut not in OPEN_STATUTS or self._overdue(session, now):
                raise Conflict('Cette session est terminée : impossible d’ajouter du temps.')
            if session.utilisateur_id:
                running_left = temps_restant(session, now) if session.statut in RUNNING else 0
                self.check_policy(session.utilisateur, seconds, now, force=force, operateur=operateur, ip=ip,
                                  session=session, running_left=running_left,
                                  whole_session=session.duree_initiale + session.temps_ajoute)
            before, asked = session.fin_prevue, seconds
            session.temps_ajoute += seconds
            if session.fin_prevue is not None:
                session.fin_prevue, capped = self.cap_at_closing(session.fin_prevue + timedelta(seconds=seconds), now)
                session.limite_fermeture = session.limite_fermeture or capped
                seconds = max(0, round((session.fin_prevue - before).total_seconds()))
                left = temps_restant(session, now)   # frozen while paused
                session.avertissements = Session.format_warnings(
                    passed_thresholds(self.config.warning_times, left))
            session.save()
            capped_note = (f' (limité à la fermeture : {seconds // 60} min effectives)'
                           if seconds != asked else '')
            audit.record('ajout_temps', now=now, operateur=operateur, session=session, ip=ip,
                         details=f'{asked // 60} min ajoutées{capped_note}.',
                         metadata={'secondes': asked, 'effectives': seconds})
            self._session_changed(session, now)
            if session.statut in RUNNING and session.poste_id:
                events.publish(events.TIME_ADDED, poste_id=session.poste_id, seconds=seconds,
                               temps_restant=temps_restant(session, now))
        return session

    def terminate(self, session, *, raison=Reason.BY_STAFF, note='', operateur, ip):
        """Staff (or the visitor, raison=BY_VISITOR) ends a session or cancels a waiting code."""
        now = self.now()
        with writing():
            session = self._load(session.id)
            if session.statut not in OPEN_STATUTS:
                raise Conflict('Cette session est déjà terminée.')
            who = {Reason.BY_VISITOR: 'par le visiteur',
                   Reason.INACTIVITY: 'pour inactivité'}.get(raison, 'par le personnel')
            details = f'Session terminée {who}.' + (f' Motif : {note}' if note else '')
            if note:
                session.notes = (session.notes + '\n' if session.notes else '') + note
            session = self._end(session, TERMINEE, raison, now, operateur=operateur, ip=ip,
                                details=details)
        return session

    def end_by_visitor(self, poste, *, ip, raison=Reason.BY_VISITOR):
        """The visitor pressed "end my session" on the kiosk of `poste` (or the kiosk saw no input
        for INACTIVITY_TIMEOUT: raison=INACTIVITY)."""
        session = self._running_on(poste)
        if session is None:
            raise Conflict('Aucune session en cours sur ce poste.')
        return self.terminate(session, raison=raison, operateur='', ip=ip)

    def expire_due(self):
        """End every running session past its deadline and every waiting code past its validity.

        Called by the timekeeper on time, by the scheduler as a safety net, at start-up for what
        ran out while the box was off, and before decisions that depend on it.
        """
        now = self.now()
        stale = now - timedelta(seconds=self.config.pending_code_ttl)
        abandoned = now - timedelta(seconds=self.config.pause_max)
        due = [row.id for row in Session.select(Session.id).where(
            ((Session.statut == ACTIVE) & (Session.fin_prevue <= now)) |
            ((Session.statut == SUSPENDUE) & (Session.pause_debut <= abandoned)) |
            ((Session.statut == EN_ATTENTE) & (Session.created_at <= stale)))]
        ended = []
        for session_id in due:
            with writing():
                session = self._load(session_id, skip_locked=True)
                if session is None:
                    continue   # another process is ending it
                if self._expire_if_due(session, now):
                    ended.append(session)
                elif session.statut == EN_ATTENTE and session.created_at <= stale:
                    ended.append(self._end(session, EXPIREE, Reason.CODE_EXPIRED, now,
                                           details='Code expiré sans avoir été utilisé.'))
        return ended

    def process_due(self, session_ids):
        """The timekeeper's work for sessions whose next moment has come: end those past their
        deadline, warn the others. One query and one transaction for the whole batch; returns the
        sessions as they now are, without those another process was working on at that moment."""
        now = self.now()
        with writing():
            # Rows another process is working on are left to it (it warns or ends them once).
            sessions = list(db.locked(self._with_relations().where(Session.id.in_(list(session_ids))),
                                      Session, skip=True))
            closing = [s for s in sessions if self._overdue(s, now) and s.limite_fermeture]
            closing_ids = {s.id for s in closing}
            for session in sessions:
                if session.id in closing_ids:
                    continue
                if not self._expire_if_due(session, now):
                    self._warn(session, now)
            if closing:   # the library closes: a whole room ends at once (desk/policy.py)
                self.end_at_closing(closing, now)
        return sessions

    def send_due_warnings(self, session):
        """Warn the kiosk of each threshold whose moment has come; returns the thresholds sent."""
        with writing():
            return self._warn(self._load(session.id), self.now())

    # -- internals --------------------------------------------------------------------------

    def _expire_if_due(self, session, now):
        if session.statut == SUSPENDUE:
            if not self._overdue(session, now):
                return False
            self._end(session, EXPIREE, Reason.PAUSE_EXPIRED, now,
                      details='Pause trop longue : session terminée.')
            return True
        if self._overdue(session, now) and session.limite_fermeture:
            self._end(session, TERMINEE, Reason.LIBRARY_CLOSING, now, details='Fermeture de la bibliothèque.')
            return True
        if self._overdue(session, now):
            self._end(session, EXPIREE, Reason.EXPIRATION, now, details='Temps écoulé : session expirée.')
            return True
        return False

    def _overdue(self, session, now):
        if session.statut == SUSPENDUE:   # paused: its deadline stands still; PAUSE_MAX ends it
            return (session.pause_debut is not None
                    and pause_deadline(session.pause_debut, self.config.pause_max) <= now)
        return session.statut in RUNNING and session.fin_prevue is not None and session.fin_prevue <= now

    def _warn(self, session, now):
        """Inside writing(): send the warnings now due for `session`; returns their thresholds."""
        if session.statut != ACTIVE or session.fin_prevue is None:
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
        events.publish(events.WARNING_DUE, poste_id=session.poste_id, seuil=threshold,
                       temps_restant=remaining_seconds(session.fin_prevue, now),
                       message=warning_message(threshold))
        self._session_changed(session, now)
        return due

    def _started(self, session, now):
        """Tell the kiosk of the session's poste that it runs (again: a rebooted kiosk resumes)."""
        events.publish(events.SESSION_STARTED, poste_id=session.poste_id,
                       session=session_json(session, now), temps_restant=temps_restant(session, now))

    def _new_code(self):
        for _ in range(50):
            code = ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if not Session.select().where(Session.code_acces == code,
                                          Session.statut.in_(OPEN_STATUTS)).exists():
                return code
        raise Conflict('Impossible de générer un code unique : trop de codes en attente.')

    def _check_poste_free(self, poste, ignore=None):
        """409 unless a session may start on `poste` (`ignore`: the waiting session to start)."""
        if poste.statut == MAINTENANCE:
            raise Conflict(f'Le poste {poste.nom} est en maintenance.', body={'valid': False})
        statuts = {s.statut for s in Session.select(Session.statut).where(
            Session.poste == poste, Session.statut.in_(OPEN_STATUTS))}
        if statuts & set(RUNNING):
            raise Conflict(f'Le poste {poste.nom} est déjà occupé.', body={'valid': False})
        if ignore is None and EN_ATTENTE in statuts:
            raise Conflict(f'Un code est déjà en attente pour le poste {poste.nom}.')

    def _failed_code(self, poste, source_ip, code, now, why):
        self.code_failures_by_poste.failure(poste.id)
        self.code_failures_by_address.failure(source_ip)
        with writing():
            audit.record('echec_code', now=now, poste=poste, ip=source_ip, details=why,
                         metadata={'code': code[:CODE_LENGTH * 2]})
