"""Errors with an HTTP meaning, raised by domain rules and handlers alike.

The REST layer renders them as `{"detail": ..., "errors": {...}}` with their status; the WebSocket
layer as an `error` (or `code_invalid`) message.
"""


class AppError(Exception):
    status = 400

    def __init__(self, detail, *, errors=None, body=None, headers=None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors        # {field: [messages]} for validation errors
        self.body = body or {}      # extra keys for the JSON body
        self.headers = headers or {}

    def to_json(self):
        data = dict(self.body)
        data['detail'] = self.detail
        if self.errors:
            data['errors'] = self.errors
        return data


# What a field is called on screen: error summaries name fields the way staff know them.
FIELD_LABELS = {
    'nom': 'Nom', 'prenom': 'Prénom', 'email': 'E-mail', 'telephone': 'Téléphone',
    'date_naissance': 'Date de naissance', 'adresse': 'Adresse',
    'type_piece_identite': 'Type de pièce d’identité', 'piece_identite_verifiee': 'Pièce d’identité vérifiée',
    'numero_piece_identite': 'Numéro de pièce d’identité', 'consentement_rgpd': 'Consentement RGPD',
    'notes': 'Notes', 'ip_address': 'Adresse IP', 'mac_address': 'Adresse MAC', 'emplacement': 'Emplacement',
    'statut': 'Statut', 'force': 'Forcer', 'utilisateur': 'Visiteur', 'poste': 'Poste',
    'duree_initiale': 'Durée', 'duree_minutes': 'Durée (minutes)', 'seconds': 'Secondes', 'minutes': 'Minutes',
    'raison': 'Raison', 'code': 'Code', 'code_acces': 'Code d’accès', 'username': 'Identifiant',
    'password': 'Mot de passe', 'role': 'Rôle', 'is_active': 'Compte actif',
    'old_password': 'Mot de passe actuel', 'new_password': 'Nouveau mot de passe', 'refresh': 'Jeton',
    'token': 'Jeton', 'page': 'Page', 'page_size': 'Taille de page', 'date_min': 'Date de début',
    'date_max': 'Date de fin', 'action': 'Action', 'photo': 'Photo', 'page_accueil': 'Page d’accueil',
    'doublon_confirme': 'Doublon confirmé',
}


def field_label(name):
    return FIELD_LABELS.get(name) or name.replace('_', ' ').capitalize()


def summary(errors):
    """One French sentence for a set of field errors: the message itself when one field is wrong,
    otherwise the fields to check, by their labels."""
    if not errors:
        return 'Données invalides.'
    if len(errors) == 1:
        name, messages = next(iter(errors.items()))
        return f'{field_label(name)} : {" ".join(messages)}'
    return f'{len(errors)} champs à corriger : {", ".join(field_label(name) for name in errors)}.'


class Invalid(AppError):
    status = 400

    def __init__(self, errors, detail=None):
        super().__init__(detail or summary(errors), errors=errors)


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class TooLarge(AppError):
    status = 413


class UnsupportedMediaType(AppError):
    status = 415


class RateLimited(AppError):
    status = 429

    def __init__(self, retry_after, detail='Trop de tentatives. Réessayez plus tard.', body=None):
        super().__init__(detail, body=body, headers={'Retry-After': str(retry_after)})
        self.retry_after = retry_after
