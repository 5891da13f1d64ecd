"""The audit log: one entry per change of state, kept for legal requests.

Entries copy names as text. They never hold a password, a token or a hash. Each entry is also
published (log_written) for the staff live feed.
"""
import json

from appliance import events
from appliance.db import writing
from appliance.clock import iso
from appliance.models import Log

ACTIONS = (
    'connexion_staff', 'deconnexion_staff', 'echec_connexion', 'creation_utilisateur',
    'modification_utilisateur', 'suppression_utilisateur', 'creation_poste', 'modification_poste',
    'suppression_poste', 'changement_statut_poste', 'jeton_poste', 'generation_code',
    'demarrage_session', 'echec_code', 'ajout_temps', 'avertissement', 'fermeture', 'expiration',
    'connexion_poste', 'deconnexion_poste', 'creation_compte', 'modification_compte',
    'suppression_compte', 'sauvegarde', 'restauration', 'purge', 'modification_bibliotheque',
    'fusion_utilisateurs', 'creation_site', 'modification_site', 'suppression_site',
)
ACTIONS += ('message_poste', 'commande_poste', 'pause_session', 'reprise_session', 'demande_temps')
# The library's policy (desk/policy.py).
ACTIONS += ('modification_horaires', 'modification_categorie', 'depassement_quota', 'generation_code_invite',
            'annonce_fermeture')


def record(action, *, now, operateur='', utilisateur=None, session=None, poste=None, details='',
           metadata=None, ip=None, site=None):
    """Write one entry. `operateur` is a Compte, a username or ''; the others are model rows.
    `site` (an id) when given, else the site of the session, of the poste, or of the staff member."""
    assert action in ACTIONS, action
    if hasattr(operateur, 'username'):
        operateur = operateur.username
    if utilisateur is None and session is not None and session.utilisateur_id:
        utilisateur = session.utilisateur
    if poste is None and session is not None and session.poste_id:
        poste = session.poste
    if site is None:
        site = next((row.site_id for row in (session, poste, operateur)
                     if getattr(row, 'site_id', None) is not None), None)
    entry = Log.create(
        action=action,
        operateur=operateur or '',
        utilisateur=utilisateur.id if utilisateur else None,
        utilisateur_nom=utilisateur.nom_complet if utilisateur else '',
        session=session.id if session else None,
        poste=poste.id if poste else None,
        poste_nom=poste.nom if poste else '',
        details=details,
        metadata=json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True),
        ip_address=ip,
        created_at=now,
        site=site,
    )
    events.publish(events.LOG_WRITTEN, log=to_json(entry))
    return entry


def to_json(entry):
    return {
        'id': entry.id,
        'action': entry.action,
        'operateur': entry.operateur,
        'utilisateur': entry.utilisateur,
        'utilisateur_nom': entry.utilisateur_nom,
        'session': entry.session,
        'poste': entry.poste,
        'poste_nom': entry.poste_nom,
        'details': entry.details,
        'metadata': entry.metadata_dict,
        'ip_address': entry.ip_address,
        'created_at': iso(entry.created_at),
        'site': entry.site,
    }


def purge(before, *, now):
    """Delete entries older than `before`, in batches, and record one `purge` entry with the count."""
    total = 0
    while True:
        with writing():
            ids = [e.id for e in Log.select(Log.id).where(Log.created_at < before).limit(5000)]
            if not ids:
                break
            total += Log.delete().where(Log.id.in_(ids)).execute()
    with writing():
        record('purge', now=now, operateur='système',
               details=f'{total} entrée(s) du journal antérieure(s) au {before:%d/%m/%Y} supprimée(s).',
               metadata={'supprimees': total, 'avant': iso(before)})
    return total
