"""JSON shapes of the domain objects, shared by the REST API and the WebSocket messages.

Field names follow the seed's original implementation so its clients keep working.
"""
from appliance.clock import iso, paused_remaining, remaining_seconds


def temps_restant(session, now):
    """Seconds left: live for a running session, the whole allowance for a waiting one."""
    if session.statut == 'active' and session.fin_prevue is not None:
        return remaining_seconds(session.fin_prevue, now)
    if session.statut == 'en_attente':
        return session.duree_initiale + session.temps_ajoute
    if session.statut == 'suspendue' and session.fin_prevue is not None and session.pause_debut is not None:
        return paused_remaining(session.fin_prevue, session.pause_debut)   # frozen while paused
    return 0


def utilisateur_json(u):
    return {
        'id': u.id, 'nom': u.nom, 'prenom': u.prenom, 'email': u.email, 'telephone': u.telephone,
        'date_naissance': u.date_naissance.isoformat() if u.date_naissance else None,
        'adresse': u.adresse, 'type_piece_identite': u.type_piece_identite,
        'piece_identite_verifiee': u.piece_identite_verifiee,
        'numero_piece_identite': u.numero_piece_identite,
        'consentement_rgpd': u.consentement_rgpd, 'date_consentement': iso(u.date_consentement),
        'photo': f'/api/utilisateurs/{u.id}/photo/' if u.photo else None,
        'is_guest': u.is_guest, 'notes': u.notes, 'created_by': u.created_by_id,
        'nombre_sessions_total': u.nombre_sessions_total, 'derniere_session': iso(u.derniere_session),
        'created_at': iso(u.created_at), 'updated_at': iso(u.updated_at),
        'autorisation_parentale': u.autorisation_parentale, 'charte_version': u.charte_version,
        'anonymise_le': iso(u.anonymise_le),
        'categorie': u.categorie,
    }


def session_json(session, now):
    utilisateur = session.utilisateur if session.utilisateur_id else None
    poste = session.poste if session.poste_id else None
    return {
        'id': session.id,
        'code_acces': session.code_acces,
        'utilisateur': session.utilisateur_id,
        'utilisateur_nom': utilisateur.nom_complet if utilisateur else None,
        'poste': session.poste_id,
        'poste_nom': poste.nom if poste else None,
        'duree_initiale': session.duree_initiale,
        'temps_ajoute': session.temps_ajoute,
        'temps_restant': temps_restant(session, now),
        'debut_session': iso(session.debut_session),
        'fin_session': iso(session.fin_session),
        'fin_prevue': iso(session.fin_prevue) if session.statut == 'active' else None,
        'statut': session.statut,
        'raison_fin': session.raison_fin,
        'operateur': session.operateur,
        'notes': session.notes,
        'created_at': iso(session.created_at),
        'site': session.site_id,
        'pause_debut': iso(session.pause_debut),
        'invite': bool(session.invite),
        'limite_fermeture': bool(session.limite_fermeture),
    }


STAFF_ONLY = ('notes', 'operateur')


def kiosk_session_json(session):
    """A session's JSON as a public computer may see it: without the staff's notes on the visitor
    or the name of the librarian who made the code."""
    return {key: value for key, value in session.items() if key not in STAFF_ONLY}


def active_session_summary(session, now):
    """The `session_active` field of a poste."""
    if session is None:
        return None
    return {
        'id': session.id,
        'code_acces': session.code_acces,
        'temps_restant': temps_restant(session, now),
        'utilisateur_nom': session.utilisateur.nom_complet if session.utilisateur_id else None,
        'statut': session.statut,   # `suspendue` while paused
    }


def poste_fields(poste):
    """The stored fields of a poste (the room keeps them ready between changes)."""
    return {
        'id': poste.id,
        'nom': poste.nom,
        'ip_address': poste.ip_address,
        'mac_address': poste.mac_address,
        'statut': poste.statut,
        'emplacement': poste.emplacement,
        'created_at': iso(poste.created_at),
        'updated_at': iso(poste.updated_at),
        'site': poste.site_id,
    }


def poste_json(fields, *, now, active_session, en_ligne, derniere_connexion, adresse_kiosque=None):
    """A poste as the API shows it: its stored `fields` plus what is live (`adresse_kiosque`: the
    address its kiosk last connected from since the appliance started, or null)."""
    return {
        **fields,
        'derniere_connexion': iso(derniere_connexion),
        'en_ligne': en_ligne,
        'adresse_kiosque': adresse_kiosque,
        'session_active': active_session_summary(active_session, now),
    }


def demande_json(demande):
    session = demande.session
    utilisateur = session.utilisateur if session.utilisateur_id else None
    poste = demande.poste if demande.poste_id else None
    return {
        'id': demande.id,
        'session': demande.session_id,
        'poste': demande.poste_id,
        'poste_nom': poste.nom if poste else None,
        'utilisateur_nom': utilisateur.nom_complet if utilisateur else None,
        'seconds': demande.seconds,
        'statut': demande.statut,
        'motif': demande.motif,
        'operateur': demande.operateur,
        'created_at': iso(demande.created_at),
        'traitee_at': iso(demande.traitee_at),
    }
