"""Visitors registered twice: finding the likely same person before a new record is made, and
merging two records of one person into one (docs/api.md).

Two records look alike when the names match, accents, case, spaces and the order of first and last
name ignored, and so does one more fact: the birth date, the e-mail or the phone number (digits
only, +33 read as 0). A name alone is not enough (namesakes), nor a shared phone (families).
"""
import unicodedata

from appliance import audit
from appliance.db import writing
from appliance.errors import Conflict
from appliance.models import Session, Utilisateur
from appliance.protocol import OPEN_STATUTS

# Empty fields of the kept record are filled from the merged one.
FILLED = ('email', 'telephone', 'date_naissance', 'adresse', 'type_piece_identite', 'numero_piece_identite',
          'notes', 'photo')


def fold(text):
    """'  Élise-Anne ' → 'elise anne'."""
    plain = unicodedata.normalize('NFKD', text or '')
    plain = ''.join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return ' '.join(''.join(ch if ch.isalnum() else ' ' for ch in plain).split())


def phone_digits(text):
    digits = ''.join(ch for ch in text or '' if ch.isdigit())
    if digits.startswith('0033'):
        digits = '0' + digits[4:]
    elif digits.startswith('33') and len(digits) == 11:
        digits = '0' + digits[2:]
    return digits


def _names(nom, prenom):
    return frozenset((fold(nom), fold(prenom)))


def likeness(data, visitor):
    """The facts `data` (a new visitor) shares with `visitor`, besides the name: a list of words."""
    shared = []
    if data.get('date_naissance') and data['date_naissance'] == visitor.date_naissance:
        shared.append('date_naissance')
    if data.get('email') and data['email'].casefold() == (visitor.email or '').casefold():
        shared.append('email')
    digits = phone_digits(data.get('telephone'))
    if len(digits) >= 6 and digits == phone_digits(visitor.telephone):
        shared.append('telephone')
    return shared


class Duplicates:
    def similar_visitors(self, data, limit=5):
        """Registered visitors that look like the person `data` describes, best first."""
        names = _names(data.get('nom'), data.get('prenom'))
        if not all(names):
            return []
        # Names are compared folded, which SQL cannot do on both engines: read the few columns
        # needed (a few thousand short rows), fold them here.
        rows = Utilisateur.select(Utilisateur.id, Utilisateur.nom, Utilisateur.prenom, Utilisateur.email,
                                  Utilisateur.telephone, Utilisateur.date_naissance)
        found = [(len(likeness(data, v)), v.id) for v in rows
                 if _names(v.nom, v.prenom) == names and likeness(data, v)]
        ids = [visitor_id for _, visitor_id in sorted(found, key=lambda item: (-item[0], item[1]))[:limit]]
        by_id = {v.id: v for v in Utilisateur.select().where(Utilisateur.id.in_(ids))} if ids else {}
        return [by_id[i] for i in ids if i in by_id]

    def merge_visitors(self, kept, merged, *, operateur, ip):
        """Move `merged`'s sessions to `kept`, fill `kept`'s empty fields from it, delete it."""
        if kept.id == merged.id:
            raise Conflict('Une fiche ne peut pas être fusionnée avec elle-même.')
        now = self.now()
        with writing():
            kept, merged = Utilisateur.get_by_id(kept.id), Utilisateur.get_by_id(merged.id)
            open_sessions = (Session.select().where(Session.utilisateur.in_([kept.id, merged.id]),
                                                    Session.statut.in_(OPEN_STATUTS)).count())
            if open_sessions > 1:
                raise Conflict('Les deux fiches ont chacune une session en cours ou un code en attente : '
                               'terminez-en une avant de fusionner.')
            moved = Session.update(utilisateur=kept.id).where(Session.utilisateur == merged.id).execute()
            fields = {name: getattr(merged, name) for name in FILLED
                      if not getattr(kept, name) and getattr(merged, name)}
            if merged.piece_identite_verifiee and not kept.piece_identite_verifiee:
                fields['piece_identite_verifiee'] = True
            fields['nombre_sessions_total'] = kept.nombre_sessions_total + merged.nombre_sessions_total
            last = [d for d in (kept.derniere_session, merged.derniere_session) if d]
            fields['derniere_session'] = max(last) if last else None
            kept.save_changes(fields, now)
            left_photo = merged.photo if merged.photo and fields.get('photo') != merged.photo else None
            audit.record('fusion_utilisateurs', now=now, operateur=operateur, utilisateur=kept, ip=ip,
                         details=f'Fiche n° {merged.id} ({merged.nom_complet}) fusionnée dans la fiche '
                                 f'n° {kept.id} ({kept.nom_complet}) : {moved} session(s) reprise(s).',
                         metadata={'fiche_fusionnee': merged.id, 'nom_fusionne': merged.nom_complet,
                                   'sessions': moved, 'champs_repris': sorted(set(fields) & set(FILLED))})
            merged.delete_instance()
            self.room.reset()   # a running session may now show the kept record's name
        self._remove_photo_file(left_photo)
        return kept
