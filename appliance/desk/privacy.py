"""Privacy and legal requests (docs/rgpd.md): retention, erasure and access, requisitions, the
charter, minors.

- Retention (nightly, and `poste-public purge`): sessions ended more than SESSION_RETENTION_DAYS
  ago are deleted; visitors with no session for VISITOR_RETENTION_DAYS are anonymised.
- Anonymising empties every personal field of the record (`nom` becomes « Anonyme »), deletes the
  photo file and keeps the id. Audit entries keep the names they copied until their own retention
  ends (connection data kept one year by law).
- A requisition lists the sessions overlapping a period, for the police, and is itself audited.
- The charter: the current version must have been accepted by the visitor before a session starts
  (guests: every time); a minor under AGE_CONSENTEMENT needs their parents' authorisation.
"""
import base64
import json
from datetime import date, timedelta

from peewee import JOIN, fn

from appliance import audit
from appliance.clock import iso
from appliance.db import writing
from appliance.errors import Conflict, Invalid
from appliance.models import Charte, Log, Poste, Session, State, Utilisateur
from appliance.protocol import OPEN_STATUTS
from appliance.search import search_text
from appliance.serializers import session_json, utilisateur_json

ANONYME = 'Anonyme'
RETENTION_KEY = 'retention:derniere'
BATCH = 500

REQUISITION_COLUMNS = ('session', 'poste', 'adresse_ip', 'adresse_mac', 'debut', 'fin', 'visiteur',
                       'date_naissance', 'type_piece_identite', 'piece_identite_verifiee', 'operateur')


class CharterRequired(Exception):
    """A valid code whose visitor must first accept the current charter (not an error: the kiosk
    shows it, REST answers 200 with `charte_requise`)."""

    def __init__(self, charte):
        super().__init__('charte à accepter')
        self.charte = charte

    def to_json(self):
        return {'version': self.charte.version, 'texte': self.charte.texte}


def age_on(birth, today):
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class Privacy:
    # -- erasure and access ----------------------------------------------------------------

    def anonymise_visitor(self, visitor, *, operateur, ip, raison='demande'):
        """Empty the visitor's record now (the right to erasure). 409 while a session is open."""
        now = self.now()
        with writing():
            visitor = Utilisateur.get_by_id(visitor.id)
            if Session.select().where(Session.utilisateur == visitor,
                                      Session.statut.in_(OPEN_STATUTS)).exists():
                raise Conflict('Ce visiteur a une session en cours ou un code en attente : '
                               'terminez-la avant de l’anonymiser.')
            photo = self._anonymise(visitor, now, operateur=operateur, ip=ip, raison=raison)
        self._remove_photo_file(photo)
        return visitor

    def _anonymise(self, visitor, now, *, operateur, ip, raison):
        """Inside writing(): audit (with the name, kept by the log) then empty. Returns the photo
        file to delete after commit."""
        why = ('à la demande de la personne' if raison == 'demande'
               else f'après {self.config.visitor_retention_days} jours sans session')
        audit.record('anonymisation_utilisateur', now=now, operateur=operateur, utilisateur=visitor, ip=ip,
                     details=f'Fiche n° {visitor.id} anonymisée {why}.', metadata={'raison': raison})
        photo = visitor.photo
        fields = dict(nom=ANONYME, prenom='', email='', telephone='', date_naissance=None, adresse='',
                      type_piece_identite=None, piece_identite_verifiee=False, numero_piece_identite='',
                      notes='', photo=None, autorisation_parentale=False, anonymise_le=now,
                      updated_at=now)
        for name, value in fields.items():
            setattr(visitor, name, value)
        fields['recherche'] = visitor.recherche = search_text(visitor)   # it held the name too (search.py)
        Utilisateur.update(**fields).where(Utilisateur.id == visitor.id).execute()
        return photo

    def export_visitor(self, visitor, *, operateur, ip):
        """Everything held about one person (the right of access), as a JSON-ready dict."""
        now = self.now()
        sessions = (self._with_relations().where(Session.utilisateur == visitor.id).order_by(Session.id))
        entries = Log.select().where(Log.utilisateur == visitor.id).order_by(Log.id)
        photo = None
        if visitor.photo:
            try:
                with open(self.photo_path(visitor.photo), 'rb') as f:
                    data = f.read()
                photo = {'type': 'image/png' if visitor.photo.endswith('.png') else 'image/jpeg',
                         'base64': base64.b64encode(data).decode('ascii')}
            except FileNotFoundError:
                pass
        result = {
            'exporte_le': iso(now),
            'utilisateur': utilisateur_json(visitor),
            'sessions': [session_json(s, now) for s in sessions],
            'journal': [audit.to_json(e) for e in entries],
            'photo': photo,
        }
        with writing():
            audit.record('export_donnees', now=now, operateur=operateur, utilisateur=visitor, ip=ip,
                         details=f'Données de la fiche n° {visitor.id} exportées.',
                         metadata={'sessions': len(result['sessions']), 'entrees': len(result['journal'])})
        return result

    # -- retention -------------------------------------------------------------------------

    def apply_retention(self, *, operateur='système', record=True):
        """Delete old sessions and anonymise idle visitors; audit and remember what was done.
        With `record` false, the `purge` entry is left to the caller (the nightly job writes one
        entry for the log purge and this): the summary carries its `details`."""
        now = self.now()
        cutoff = now - timedelta(days=self.config.session_retention_days)
        ended = fn.COALESCE(Session.fin_session, Session.created_at)
        deleted = 0
        while True:
            with writing():
                ids = [s.id for s in Session.select(Session.id).where(
                    Session.statut.not_in(OPEN_STATUTS), ended < cutoff).limit(BATCH)]
                if not ids:
                    break
                deleted += Session.delete().where(Session.id.in_(ids)).execute()
        idle = now - timedelta(days=self.config.visitor_retention_days)
        anonymised = 0
        while True:
            with writing():
                open_ids = Session.select(Session.utilisateur).where(Session.statut.in_(OPEN_STATUTS),
                                                                      Session.utilisateur.is_null(False))
                batch = list(Utilisateur.select().where(
                    Utilisateur.anonymise_le.is_null(),
                    fn.COALESCE(Utilisateur.derniere_session, Utilisateur.created_at) < idle,
                    Utilisateur.id.not_in(open_ids)).limit(50))
                photos = [self._anonymise(v, now, operateur=operateur, ip=None, raison='retention')
                          for v in batch]
            for photo in photos:
                self._remove_photo_file(photo)
            anonymised += len(batch)
            if not batch:
                break
        summary = {'sessions_supprimees': deleted, 'visiteurs_anonymises': anonymised, 'le': iso(now),
                   'sessions_avant': iso(cutoff), 'visiteurs_inactifs_depuis': iso(idle)}
        details = (f'Conservation : {deleted} session(s) terminée(s) avant le {cutoff:%d/%m/%Y} '
                   f'supprimée(s), {anonymised} visiteur(s) sans session depuis le {idle:%d/%m/%Y} '
                   'anonymisé(s).')
        with writing():
            if record:
                audit.record('purge', now=now, operateur=operateur, details=details, metadata=summary)
            value = json.dumps(summary)
            State.insert(key=RETENTION_KEY, value=value).on_conflict(
                conflict_target=[State.key], update={State.value: value}).execute()
        return {**summary, 'details': details}

    def last_retention(self):
        """What the last retention run did (None before the first)."""
        row = State.get_or_none(State.key == RETENTION_KEY)
        try:
            return json.loads(row.value) if row else None
        except ValueError:
            return None

    # -- requisitions ----------------------------------------------------------------------

    def requisition(self, *, motif, debut, fin, poste=None, utilisateur=None, operateur, ip):
        """The sessions overlapping [debut, fin] (on `poste`, of `utilisateur`): a list of dicts
        with REQUISITION_COLUMNS. The request is written in the audit log with its parameters."""
        if fin < debut:
            raise Invalid({'fin': ['La fin doit suivre le début.']})
        query = (Session.select(Session, Utilisateur, Poste)
                 .join(Utilisateur, JOIN.LEFT_OUTER, on=(Session.utilisateur == Utilisateur.id))
                 .switch(Session).join(Poste, JOIN.LEFT_OUTER, on=(Session.poste == Poste.id))
                 .where(Session.debut_session.is_null(False), Session.debut_session <= fin,
                        Session.fin_session.is_null() | (Session.fin_session >= debut))
                 .order_by(Session.debut_session, Session.id))
        if poste is not None:
            query = query.where(Session.poste == poste)
        if utilisateur is not None:
            query = query.where(Session.utilisateur == utilisateur)
        sessions = list(query)
        # An anonymised record no longer names the visitor: the session's start in the audit log
        # still does, for as long as the log keeps it (legal obligation).
        logged = {e.session: e.utilisateur_nom for e in Log.select(Log.session, Log.utilisateur_nom).where(
            Log.action == 'demarrage_session', Log.session.in_([s.id for s in sessions]))} if sessions else {}
        rows = []
        for s in sessions:
            u = s.utilisateur if s.utilisateur_id else None
            p = s.poste if s.poste_id else None
            name = u.nom_complet if u is not None and u.anonymise_le is None else logged.get(s.id, ANONYME if u else '')
            rows.append({
                'session': s.id, 'poste': p.nom if p else '', 'adresse_ip': p.ip_address if p else '',
                'adresse_mac': (p.mac_address or '') if p else '', 'debut': iso(s.debut_session),
                'fin': iso(s.fin_session), 'visiteur': name,
                'date_naissance': u.date_naissance.isoformat() if u and u.date_naissance else '',
                'type_piece_identite': (u.type_piece_identite or '') if u else '',
                'piece_identite_verifiee': bool(u.piece_identite_verifiee) if u else False,
                'operateur': s.operateur,
            })
        parameters = {'motif': motif, 'debut': iso(debut), 'fin': iso(fin),
                      'poste': poste.id if poste is not None else None,
                      'utilisateur': utilisateur.id if utilisateur is not None else None}
        with writing():
            audit.record('requisition', now=self.now(), operateur=operateur, ip=ip,
                         utilisateur=utilisateur, poste=poste,
                         details=f'Réquisition « {motif} » : {len(rows)} session(s) du {debut:%d/%m/%Y %H:%M} '
                                 f'au {fin:%d/%m/%Y %H:%M} UTC.',
                         metadata={**parameters, 'lignes': len(rows)})
        return rows

    # -- the charter -----------------------------------------------------------------------

    def current_charter(self):
        return Charte.select().order_by(Charte.version.desc()).first()

    def set_charter(self, texte, *, operateur, ip):
        now = self.now()
        with writing():
            current = self.current_charter()
            charte = Charte.create(version=(current.version if current else 0) + 1, texte=texte,
                                   operateur=getattr(operateur, 'username', ''), created_at=now)
            audit.record('modification_charte', now=now, operateur=operateur, ip=ip,
                         details=f'Charte modifiée : version {charte.version}.',
                         metadata={'version': charte.version})
        return charte

    def charter_due(self, session):
        """The charter `session`'s visitor must accept before it starts, or None."""
        charte = self.current_charter()
        if charte is None or not charte.texte or not session.utilisateur_id:
            return None
        visitor = session.utilisateur
        if not visitor.is_guest and visitor.charte_version == charte.version:
            return None
        return charte

    def charter_gate(self, session, poste, charte_version, *, ip):
        """Before `session` starts: CharterRequired unless no charter is due or `charte_version`
        accepts the current one (recorded)."""
        charte = self.charter_due(session)
        if charte is None:
            return
        if charte_version is None:
            raise CharterRequired(charte)
        self.accept_charter(session, charte_version, ip=ip, poste=poste)

    def accept_charter(self, session, version, *, ip, poste=None):
        """Record that `session`'s visitor accepted `version` (which must be the current one)."""
        now = self.now()
        with writing():
            charte = self.current_charter()
            if charte is None or version != charte.version:
                raise Conflict('La charte a changé : lisez et acceptez sa nouvelle version.', body={'valid': False})
            visitor = Utilisateur.get_by_id(session.utilisateur_id)
            Utilisateur.update(charte_version=version).where(Utilisateur.id == visitor.id).execute()
            visitor.charte_version = version
            audit.record('acceptation_charte', now=now, utilisateur=visitor, session=session, poste=poste,
                         ip=ip, details=f'Charte version {version} acceptée.', metadata={'version': version})

    # -- minors ----------------------------------------------------------------------------

    def check_minor(self, visitor):
        """409 for a visitor under AGE_CONSENTEMENT without their parents' authorisation."""
        if visitor is None or visitor.date_naissance is None or visitor.autorisation_parentale:
            return
        today = self.now().date()
        birth = visitor.date_naissance
        if isinstance(birth, str):
            birth = date.fromisoformat(birth[:10])
        if age_on(birth, today) < self.config.age_consentement:
            raise Conflict(f'Ce visiteur a moins de {self.config.age_consentement} ans : une autorisation '
                           'parentale est nécessaire avant de lui ouvrir une session.')


