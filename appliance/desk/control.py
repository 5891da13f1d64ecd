"""Live control of the postes: messages, remote commands and Wake-on-LAN, the pause of a session,
visitors' requests for more time.

Each change is one write transaction with its audit entry; what a kiosk must hear is published as
a fact (appliance/events.py) that ws/kiosk.py turns into its wire message after the commit. The
Wake-on-LAN packet, the only network I/O here, leaves after the commit.
"""
import socket
from datetime import timedelta

from peewee import JOIN, IntegrityError

from appliance import audit, db, events
from appliance.clock import pause_seconds, resumed_deadline
from appliance.db import writing
from appliance.errors import AppError, Conflict, Forbidden, Invalid, RateLimited
from appliance.models import DemandeTemps, Poste, Session, Utilisateur  # noqa: F401 (Poste: joins)
from appliance.protocol import (ACTIVE, DEMANDE_ACCEPTEE, DEMANDE_CLOSE, DEMANDE_EN_ATTENTE, DEMANDE_REFUSEE,
                                EN_ATTENTE, FORCED_COMMANDS, LOCK, MAX_REQUEST, MIN_REQUEST, RUNNING,
                                SUSPENDUE, WAKE, Reason, normalise_code)
from appliance.serializers import demande_json, temps_restant

MAX_REQUESTS_PER_SESSION = 10   # a kiosk cannot flood the desk: one pending, ten in all
COMMAND_NAMES = {'verrouiller': 'verrouillage', 'deconnecter': 'déconnexion', 'redemarrer': 'redémarrage',
                 'eteindre': 'extinction', 'reveiller': 'réveil'}
# Why a request was not granted at once (time_request_auto_refusal): shown on the dashboard.
REFUSAL_MANUAL = 'extension_manuelle'   # EXTENSION_AUTO=false: staff decide every request
REFUSAL_WAITING = 'attente'             # someone waits for a poste
REFUSAL_QUOTA = 'quota'                 # the visitor's category allows less than asked
REFUSAL_CLOSING = 'fermeture'           # the library closes before the end asked for
MESSAGE_FROM = 'Accueil'                # the `de` of a message on a kiosk


class WakeFailed(AppError):
    status = 503


def magic_packet(mac):
    """The Wake-on-LAN packet: 6 bytes 0xFF, then the 6 bytes of the MAC address 16 times."""
    raw = bytes.fromhex(mac.replace(':', '').replace('-', ''))
    if len(raw) != 6:
        raise ValueError(mac)
    return b'\xff' * 6 + raw * 16


def send_magic_packet(mac, address):
    """One UDP datagram to `address` (host, port), broadcast allowed."""
    host, port = address
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if family == socket.AF_INET:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.sendto(magic_packet(mac), (host, port))


def demandes_query():
    return (DemandeTemps.select(DemandeTemps, Session, Utilisateur, Poste)
            .join(Session).join(Utilisateur, JOIN.LEFT_OUTER)
            .switch(DemandeTemps).join(Poste, JOIN.LEFT_OUTER))


class Control:

    # -- messages ---------------------------------------------------------------------------

    def send_message(self, postes, message, *, operateur, ip):
        """Send `message` to the kiosks of `postes` (rows), or of every connected poste (None).
        Returns {'envoye': [ids], 'hors_ligne': [ids]}: a poste is reached when its kiosk is
        online (a sign of life within HEARTBEAT_TIMEOUT, on whichever process it is connected)."""
        now = self.now()
        if postes is None:
            postes = [poste for poste, _, _ in self.room.entries() if self.presence(poste, now)[0]]
        sent, offline = [], []
        for poste in postes:
            (sent if self.presence(poste, now)[0] else offline).append(poste)
        # A public screen is not told which librarian wrote (as for sessions: no `operateur`);
        # the audit entry names them.
        de = MESSAGE_FROM
        with writing():
            audit.record('message_poste', now=now, operateur=operateur, ip=ip,
                         poste=postes[0] if len(postes) == 1 else None,
                         details=f'Message envoyé à {len(sent)} poste(s) : {message[:200]}',
                         metadata={'message': message, 'envoye': [p.id for p in sent],
                                   'hors_ligne': [p.id for p in offline]})
            for poste in sent:
                events.publish(events.POSTE_MESSAGE, poste_id=poste.id, message=message, de=de)
        return {'envoye': [p.id for p in sent], 'hors_ligne': [p.id for p in offline]}

    # -- commands ---------------------------------------------------------------------------

    def send_command(self, poste, commande, *, force=False, operateur, ip):
        """Have the kiosk of `poste` lock, log off, restart or shut down; `reveiller` wakes the
        poste with a Wake-on-LAN packet instead.

        `verrouiller` pauses a running session (the visitor comes back with their code);
        `deconnecter` ends it; `redemarrer` and `eteindre` are refused while a session runs,
        unless forced, which ends it first. 409 when the kiosk is not connected."""
        if commande == WAKE:
            return self.wake(poste, operateur=operateur, ip=ip)
        now = self.now()
        if not self.presence(poste, now)[0]:
            raise Conflict(f'Le kiosque du poste {poste.nom} n’est pas connecté.')
        with writing():
            poste = self._reload(poste)
            running = self._running_on(poste)
            if running is not None and commande in FORCED_COMMANDS and not force:
                raise Conflict(f'Une session est en cours sur le poste {poste.nom} : '
                               'ajoutez "force": true pour la terminer d’abord.')
            if running is not None and commande == LOCK and running.statut == ACTIVE:
                self.pause(running, operateur=operateur, ip=ip)
            elif running is not None and commande != LOCK:
                self.terminate(running, raison=Reason.BY_STAFF, operateur=operateur, ip=ip,
                               note=f'Commande à distance : {COMMAND_NAMES[commande]}.')
            audit.record('commande_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Commande envoyée au poste {poste.nom} : {COMMAND_NAMES[commande]}.',
                         metadata={'commande': commande, 'force': bool(force),
                                   'session': running.id if running else None})
            events.publish(events.POSTE_COMMAND, poste_id=poste.id, commande=commande)
        return {'poste': poste.id, 'commande': commande, 'envoye': True}

    def wake(self, poste, *, operateur, ip):
        """Send the Wake-on-LAN magic packet of `poste` to WOL_ADDRESS."""
        if not poste.mac_address:
            raise Conflict(f'Le poste {poste.nom} n’a pas d’adresse MAC : impossible de le réveiller.')
        now = self.now()
        host, port = self.config.wol_address
        with writing():
            audit.record('commande_poste', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'Réveil du poste {poste.nom} (Wake-on-LAN).',
                         metadata={'commande': WAKE, 'mac': poste.mac_address, 'adresse': f'{host}:{port}'})
        try:   # after the commit: no network I/O inside a transaction
            send_magic_packet(poste.mac_address, (host, port))
        except OSError as exc:
            raise WakeFailed(f'Le paquet de réveil n’a pas pu partir vers {host}:{port} : {exc.strerror or exc}.') from None
        return {'poste': poste.id, 'commande': WAKE, 'envoye': True}

    # -- the pause ----------------------------------------------------------------------------

    def pause(self, session, *, operateur, ip):
        """The visitor steps away: the screen locks, the time stops, the poste stays theirs."""
        now = self.now()
        with writing():
            session = self._load(session.id)
            if session.statut == SUSPENDUE:
                raise Conflict('Cette session est déjà en pause.')
            if session.statut != ACTIVE or self._overdue(session, now):
                raise Conflict('Seule une session en cours peut être mise en pause.')
            session.statut = SUSPENDUE
            session.pause_debut = now
            session.save(only=[Session.statut, Session.pause_debut])
            left = temps_restant(session, now)
            who = 'par le personnel' if operateur else 'par le visiteur'
            audit.record('pause_session', now=now, operateur=operateur, session=session, ip=ip,
                         details=f'Session mise en pause {who} ({left // 60} min restantes).',
                         metadata={'temps_restant': left})
            self._session_changed(session, now)
            events.publish(events.SESSION_PAUSED, poste_id=session.poste_id, temps_restant=left,
                           pause_max=self.config.pause_max)
        return session

    def resume(self, session, *, operateur, ip):
        """The visitor is back (or staff resume): the time runs again from where it stopped."""
        now = self.now()
        abandoned = False
        with writing():
            session = self._load(session.id)
            if session.statut != SUSPENDUE:
                raise Conflict('Cette session n’est pas en pause.')
            if self._overdue(session, now):
                abandoned = self._expire_if_due(session, now)   # PAUSE_MAX passed: it ends now
            else:
                paused = pause_seconds(session.pause_debut, now)
                self._fold_pause(session, now)
                session.statut = ACTIVE
                session.save(only=[Session.statut, Session.pause_debut, Session.fin_prevue, Session.duree_pauses,
                                   Session.limite_fermeture])
                left = temps_restant(session, now)
                audit.record('reprise_session', now=now, operateur=operateur, session=session, ip=ip,
                             details=f'Session reprise après {paused // 60} min de pause.',
                             metadata={'pause': paused, 'temps_restant': left})
                self._session_changed(session, now)
                events.publish(events.SESSION_RESUMED, poste_id=session.poste_id, temps_restant=left)
        if abandoned:
            raise Conflict('La pause a dépassé la durée permise : la session est terminée.')
        return session

    def _paused_again(self, session, now):
        """Tell the kiosk of a paused session that it is paused (its code was presented again)."""
        events.publish(events.SESSION_PAUSED, poste_id=session.poste_id, temps_restant=temps_restant(session, now),
                       pause_max=self.config.pause_max)

    def pause_from_kiosk(self, poste, *, ip):
        session = self._running_on(poste)
        if session is None:
            raise Conflict('Aucune session en cours sur ce poste.')
        return self.pause(session, operateur='', ip=ip)

    def resume_from_kiosk(self, poste, code, *, ip):
        """The visitor typed their own code on the paused kiosk. Wrong codes count like those of
        validate_code (rate limited per poste and per address)."""
        wait = max(self.code_failures_by_poste.retry_after(poste.id),
                   self.code_failures_by_address.retry_after(ip))
        if wait:
            raise RateLimited(wait, detail='Trop de codes erronés. Patientez avant de réessayer.')
        session = self._running_on(poste)
        if session is None or session.statut != SUSPENDUE:
            raise Conflict('Aucune session en pause sur ce poste.')
        code = normalise_code(code) if isinstance(code, str) else ''
        if code != session.code_acces:
            self._failed_code(poste, ip, code, self.now(), 'Code erroné pour reprendre la session.')
            raise Forbidden('Ce n’est pas le code de cette session.')
        self.code_failures_by_poste.reset(poste.id)
        return self.resume(session, operateur='', ip=ip)

    def _fold_pause(self, session, now):
        """Inside writing(): end the pause of `session`, if any: its deadline moves by the pause's
        length, which is added to `duree_pauses` (not active time, not billed)."""
        if session.statut == SUSPENDUE and session.pause_debut is not None:
            if session.fin_prevue is not None:
                # The pause's length is given back, but never past the library's closing.
                session.fin_prevue, capped = self.cap_at_closing(
                    resumed_deadline(session.fin_prevue, session.pause_debut, now), now)
                session.limite_fermeture = session.limite_fermeture or capped
            session.duree_pauses = (session.duree_pauses or 0) + pause_seconds(session.pause_debut, now)
            session.pause_debut = None

    # -- requests for more time -------------------------------------------------------------

    def time_request_auto_refusal(self, session, seconds, now):
        """None when a request of `seconds` for `session` is granted at once, else why it must wait
        for staff (REFUSAL_*). The one place that decides (quotas and closing time belong here)."""
        if not self.config.extension_auto:
            return REFUSAL_MANUAL
        if Session.select().where(Session.statut == EN_ATTENTE,
                                  (Session.poste == session.poste_id) | Session.poste.is_null()).exists():
            return REFUSAL_WAITING
        closing = self.closing_time(now)
        if closing is not None and session.fin_prevue is not None and \
                session.fin_prevue + timedelta(seconds=seconds) > closing:
            return REFUSAL_CLOSING
        if session.utilisateur_id:
            try:
                self.check_policy(session.utilisateur, seconds, now, force=False, operateur=None, ip=None,
                                  session=session, running_left=temps_restant(session, now),
                                  whole_session=session.duree_initiale + session.temps_ajoute)
            except Conflict:
                return REFUSAL_QUOTA
        return None

    def request_time(self, poste, seconds, *, ip):
        """The visitor asks for `seconds` more from the kiosk of `poste`. Returns the request:
        granted at once (statut acceptee, the kiosk hears add_time) or pending for staff (the
        kiosk hears request_pending)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not MIN_REQUEST <= seconds <= MAX_REQUEST:
            raise Invalid({'seconds': [f'Entre {MIN_REQUEST} et {MAX_REQUEST} secondes.']},
                          detail=f'Demandez entre {MIN_REQUEST // 60} et {MAX_REQUEST // 60} minutes.')
        now = self.now()
        running = self._running_on(poste)
        if running is None:
            raise Conflict('Aucune session en cours sur ce poste.')
        try:
            with writing():
                session = self._load(running.id)
                if session.statut != ACTIVE or self._overdue(session, now):
                    raise Conflict('Seule une session en cours peut demander du temps.')
                asked = DemandeTemps.select().where(DemandeTemps.session == session.id)
                if asked.where(DemandeTemps.statut == DEMANDE_EN_ATTENTE).exists():
                    raise Conflict('Une demande est déjà en attente pour cette session.')
                if asked.count() >= MAX_REQUESTS_PER_SESSION:
                    raise Conflict('Trop de demandes pour cette session : adressez-vous à l’accueil.')
                refusal = self.time_request_auto_refusal(session, seconds, now)
                demande = DemandeTemps.create(
                    session=session, poste=session.poste_id, seconds=seconds, created_at=now,
                    statut=DEMANDE_ACCEPTEE if refusal is None else DEMANDE_EN_ATTENTE,
                    traitee_at=now if refusal is None else None)
                audit.record('demande_temps', now=now, session=session, ip=ip,
                             details=f'Demande de {seconds // 60} min depuis le poste'
                                     + (' : accordée automatiquement.' if refusal is None else ' : en attente.'),
                             metadata={'demande': demande.id, 'secondes': seconds,
                                       'decision': 'automatique' if refusal is None else 'en_attente',
                                       'attente': refusal})
                if refusal is None:
                    self.add_time(session, seconds, operateur='', ip=ip)
                else:
                    events.publish(events.TIME_REQUESTED, poste_id=session.poste_id, seconds=seconds)
                self._demande_changed(demande.id)
        except IntegrityError:   # another process recorded a pending request for it meanwhile
            raise Conflict('Une demande est déjà en attente pour cette session.') from None
        return self.demande(demande.id)

    def demande(self, demande_id):
        return demandes_query().where(DemandeTemps.id == demande_id).first()

    def pending_demandes(self):
        return (demandes_query().where(DemandeTemps.statut == DEMANDE_EN_ATTENTE)
                .order_by(DemandeTemps.created_at, DemandeTemps.id))

    def accept_demande(self, demande, seconds=None, *, operateur, ip):
        """Staff grant a pending request (`seconds`: another amount than asked)."""
        now = self.now()
        with writing():
            demande, session = self._settle(demande, now)
            granted = seconds or demande.seconds
            demande.statut, demande.operateur, demande.traitee_at = DEMANDE_ACCEPTEE, _name(operateur), now
            demande.save()
            audit.record('demande_temps', now=now, operateur=operateur, session=session, ip=ip,
                         details=f'Demande de temps acceptée : {granted // 60} min.',
                         metadata={'demande': demande.id, 'secondes': granted, 'decision': 'acceptee'})
            self.add_time(session, granted, operateur=operateur, ip=ip)
            self._demande_changed(demande.id)
        return self.demande(demande.id)

    def refuse_demande(self, demande, motif='', *, operateur, ip):
        """Staff refuse a pending request; the visitor sees `motif`."""
        now = self.now()
        motif = motif or 'Demande refusée par l’accueil.'
        with writing():
            demande, session = self._settle(demande, now)
            demande.statut, demande.motif = DEMANDE_REFUSEE, motif
            demande.operateur, demande.traitee_at = _name(operateur), now
            demande.save()
            audit.record('demande_temps', now=now, operateur=operateur, session=session, ip=ip,
                         details=f'Demande de temps refusée : {motif}',
                         metadata={'demande': demande.id, 'decision': 'refusee', 'motif': motif})
            events.publish(events.TIME_REFUSED, poste_id=session.poste_id, motif=motif)
            self._demande_changed(demande.id)
        return self.demande(demande.id)

    def _settle(self, demande, now):
        """Inside writing(): the pending request and its running session, locked; 409 otherwise."""
        demande = db.locked(DemandeTemps.select().where(DemandeTemps.id == demande.id), DemandeTemps).first()
        if demande is None or demande.statut != DEMANDE_EN_ATTENTE:
            raise Conflict('Cette demande a déjà été traitée.')
        session = self._load(demande.session_id)
        if session is None or session.statut not in RUNNING or self._overdue(session, now):
            raise Conflict('La session de cette demande est terminée.')
        return demande, session

    def _close_requests(self, session, now):
        """Inside writing(): a request ends with its session."""
        pending = [d.id for d in DemandeTemps.select(DemandeTemps.id).where(
            DemandeTemps.session == session.id, DemandeTemps.statut == DEMANDE_EN_ATTENTE)]
        if pending:
            (DemandeTemps.update(statut=DEMANDE_CLOSE, traitee_at=now)
             .where(DemandeTemps.id.in_(pending)).execute())
            for demande_id in pending:
                self._demande_changed(demande_id)

    def _demande_changed(self, demande_id):
        events.publish(events.DEMANDE_CHANGED, demande=demande_json(self.demande(demande_id)))


def _name(operateur):
    return getattr(operateur, 'username', operateur) or ''
