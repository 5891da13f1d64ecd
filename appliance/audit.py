"""The audit log: one entry per change of state, kept for legal requests.

Entries copy names as text. They never hold a password, a token or a hash. Each entry is also
published (log_written) for the staff live feed.

The log is a hash chain (appliance/auditchain.py): the entries of a write transaction are inserted
at its very end, chained to the last committed entry.
"""
import json

from appliance import auditchain, db, events
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
    # Privacy and legal requests (docs/rgpd.md).
    'anonymisation_utilisateur', 'export_donnees', 'requisition', 'modification_charte',
    'acceptation_charte', 'verification_journal',
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
    compte = operateur if hasattr(operateur, 'username') else None
    if compte is not None:
        operateur = compte.username
    if utilisateur is None and session is not None and session.utilisateur_id:
        utilisateur = session.utilisateur
    if poste is None and session is not None and session.poste_id:
        poste = session.poste
    if site is None:
        site = next((row.site_id for row in (session, poste, compte)
                     if getattr(row, 'site_id', None) is not None), None)
    fields = dict(
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
    if not db.in_transaction():
        with writing():
            return record(action, now=now, operateur=operateur, utilisateur=utilisateur,
                          session=session, poste=poste, details=details, metadata=metadata, ip=ip, site=site)
    scratch = db.scratch()
    if scratch.get('audit') is None:
        scratch['audit'] = []
        db.before_commit(lambda: _append(scratch.pop('audit')))
    fact = {}   # filled in by _append: the staff feed hears it in its place among the other facts
    events.publish_reserved(events.LOG_WRITTEN, fact)
    scratch['audit'].append((fields, fact))


def _append(pending):
    """Last in the transaction: chain its entries and complete their facts."""
    entries = auditchain.append([fields for fields, _ in pending])
    for (_, fact), entry in zip(pending, entries):
        fact['log'] = to_json(entry)
        events.send_to_others(events.LOG_WRITTEN, fact)


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


def purge(before, *, now, retention=None):
    """Delete entries older than `before`, in batches, and record one `purge` entry with the count
    (and, given `retention`, what the retention rules did in the same run).

    Only a run of the oldest entries goes (up to the first entry, in the chain's order, that is
    not older than `before`), and the `empreinte` of the last one deleted becomes the chain's
    anchor: what is kept still verifies (appliance/auditchain.py)."""
    total = 0
    with db.database.connection_context():
        kept = Log.select(Log.id).where(Log.created_at >= before).order_by(Log.id).limit(1).scalar()
        if kept is None:   # every entry is old: those written from now on are kept
            kept = (Log.select(Log.id).order_by(Log.id.desc()).limit(1).scalar() or 0) + 1
    while True:
        with writing():
            auditchain.lock()
            rows = list(Log.select(Log.id, Log.empreinte).where(Log.id < kept).order_by(Log.id)
                        .limit(5000).tuples())
            if not rows:
                break
            total += Log.delete().where(Log.id <= rows[-1][0]).execute()
            auditchain.set_anchor(rows[-1][1])
    details = f'{total} entrée(s) du journal antérieure(s) au {before:%d/%m/%Y} supprimée(s).'
    metadata = {'supprimees': total, 'avant': iso(before)}
    if retention is not None:   # what the retention rules did in the same run (desk/privacy.py)
        details += ' ' + retention['details']
        metadata.update((key, value) for key, value in retention.items() if key != 'details')
    with writing():
        record('purge', now=now, operateur='système', details=details, metadata=metadata)
    return total
