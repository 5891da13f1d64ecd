"""The OpenAPI 3 document of the REST API, built from the same schemas the routes validate with."""
import functools

from appliance import __version__
from appliance.api import auth, comptes, postes, sessions, utilisateurs
from appliance.backup.store import NAME_PATTERN
from appliance.api.validation import schema_openapi

STAFF, ADMIN, KIOSK, PUBLIC = 'staff', 'admin', 'kiosk', 'public'

# (method, path, summary, who, request schema or None, success status)
OPERATIONS = [
    ('post', '/api/token/', 'Obtenir un jeton JWT', PUBLIC, auth.CREDENTIALS, 200),
    ('post', '/api/token/refresh/', 'Rafraîchir le jeton (l’ancien est révoqué)', PUBLIC, auth.REFRESH, 200),
    ('post', '/api/token/verify/', 'Vérifier un jeton', PUBLIC, auth.VERIFY, 200),
    ('post', '/api/auth/login/', 'Connexion', PUBLIC, auth.CREDENTIALS, 200),
    ('post', '/api/auth/logout/', 'Déconnexion (révoque les jetons)', STAFF, auth.REFRESH, 204),
    ('get', '/api/auth/me/', 'Compte courant', STAFF, None, 200),
    ('post', '/api/auth/change-password/', 'Changer son mot de passe', STAFF, auth.CHANGE_PASSWORD, 204),
    ('get', '/api/utilisateurs/', 'Liste des visiteurs (?search=)', STAFF, None, 200),
    ('post', '/api/utilisateurs/', 'Enregistrer un visiteur', STAFF, utilisateurs.SCHEMA, 201),
    ('get', '/api/utilisateurs/{id}/', 'Détail d’un visiteur', STAFF, None, 200),
    ('put', '/api/utilisateurs/{id}/', 'Modifier un visiteur', STAFF, utilisateurs.SCHEMA, 200),
    ('patch', '/api/utilisateurs/{id}/', 'Modifier un visiteur (partiel)', STAFF, utilisateurs.SCHEMA, 200),
    ('delete', '/api/utilisateurs/{id}/', 'Supprimer un visiteur', ADMIN, None, 204),
    ('post', '/api/utilisateurs/{id}/photo/', 'Envoyer la photo (multipart, champ photo)', STAFF, None, 200),
    ('get', '/api/utilisateurs/{id}/photo/', 'Lire la photo', STAFF, None, 200),
    ('delete', '/api/utilisateurs/{id}/photo/', 'Supprimer la photo', STAFF, None, 204),
    ('get', '/api/postes/', 'Liste des postes', STAFF, None, 200),
    ('post', '/api/postes/', 'Créer un poste (renvoie kiosk_token une seule fois)', ADMIN, postes.SCHEMA, 201),
    ('get', '/api/postes/{id}/', 'Détail d’un poste', STAFF, None, 200),
    ('put', '/api/postes/{id}/', 'Modifier un poste', ADMIN, postes.SCHEMA, 200),
    ('patch', '/api/postes/{id}/', 'Modifier un poste (partiel)', ADMIN, postes.SCHEMA, 200),
    ('delete', '/api/postes/{id}/', 'Supprimer un poste', ADMIN, None, 204),
    ('put', '/api/postes/{id}/status/', 'Changer le statut (force pour terminer la session)', STAFF,
     postes.STATUS, 200),
    ('patch', '/api/postes/{id}/status/', 'Changer le statut (comme PUT)', STAFF, postes.STATUS, 200),
    ('post', '/api/postes/{id}/status/', 'Changer le statut (comme PUT)', STAFF, postes.STATUS, 200),
    ('post', '/api/postes/{id}/token/', 'Nouveau jeton de kiosque (l’ancien cesse de valoir)', ADMIN, None, 200),
    ('get', '/api/sessions/', 'Liste des sessions (?statut=&poste=&utilisateur=)', STAFF, None, 200),
    ('post', '/api/sessions/', 'Créer une session et son code d’accès', STAFF, sessions.CREATE, 201),
    ('get', '/api/sessions/{id}/', 'Détail d’une session', STAFF, None, 200),
    ('post', '/api/sessions/validate-code/', 'Valider un code (kiosque : X-Poste-Token)', KIOSK,
     sessions.VALIDATE, 200),
    ('post', '/api/sessions/{id}/add-time/', 'Ajouter du temps', STAFF, sessions.ADD_TIME, 200),
    ('post', '/api/sessions/{id}/terminate/', 'Terminer la session', STAFF, sessions.TERMINATE, 200),
    ('get', '/api/logs/', 'Journal d’audit (?action=&utilisateur=&poste=&session=&date_min=&date_max=)',
     STAFF, None, 200),
    ('get', '/api/logs/{id}/', 'Entrée du journal', STAFF, None, 200),
    ('get', '/api/stats/', 'Statistiques d’usage agrégées, sans donnée personnelle '
     '(?date_min=&date_max= : jours locaux, 30 derniers jours par défaut)', STAFF, None, 200),
    ('get', '/api/comptes/', 'Comptes du personnel', ADMIN, None, 200),
    ('post', '/api/comptes/', 'Créer un compte', ADMIN, comptes.SCHEMA, 201),
    ('get', '/api/comptes/{id}/', 'Détail d’un compte', ADMIN, None, 200),
    ('patch', '/api/comptes/{id}/', 'Modifier un compte', ADMIN, comptes.EDITABLE, 200),
    ('delete', '/api/comptes/{id}/', 'Supprimer un compte', ADMIN, None, 204),
    ('get', '/api/backups/', 'Sauvegardes (locales et clé USB), vérifiées ou non', ADMIN, None, 200),
    ('post', '/api/backups/', 'Faire une sauvegarde maintenant (409 si une est en cours)', ADMIN, None, 201),
    ('get', '/api/backups/{id}/', 'Télécharger une sauvegarde (id : nom du fichier)', ADMIN, None, 200),
    ('get', '/api/health/', 'État du service', PUBLIC, None, 200),
    ('get', '/api/openapi.json', 'Ce document OpenAPI', PUBLIC, None, 200),
    ('get', '/api/docs/', 'Documentation interactive (Swagger UI, servie localement)', PUBLIC, None, 200),
]
ERRORS = {'400': 'Données invalides', '401': 'Non authentifié', '403': 'Interdit', '404': 'Introuvable',
          '409': 'Conflit d’état', '413': 'Corps trop volumineux', '415': 'Type de contenu refusé',
          '429': 'Trop de tentatives (Retry-After)'}


def _operation(method, path, summary, who, schema, status):
    op = {'summary': summary, 'tags': [path.split('/')[2]],
          'responses': {str(status): {'description': 'Succès'}}}
    for code, text in ERRORS.items():
        op['responses'][code] = {'description': text,
                                 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}}
    if who in (STAFF, ADMIN):
        op['security'] = [{'bearer': []}]
        op['description'] = 'Réservé aux administrateurs.' if who == ADMIN else 'Personnel authentifié.'
    elif who == KIOSK:
        op['security'] = [{'posteToken': []}, {'bearer': []}]
    else:
        op['security'] = []
    if schema is not None:
        op['requestBody'] = {'required': True,
                             'content': {'application/json': {'schema': schema_openapi(schema)}}}
    # Path ids are numbers, except a backup's, which is its file name.
    id_schema = {'type': 'string', 'pattern': f'^{NAME_PATTERN}$'} if path.startswith('/api/backups/') \
        else {'type': 'integer'}
    params = [{'name': 'id', 'in': 'path', 'required': True, 'schema': id_schema}] if '{id}' in path else []
    if method == 'get' and '{id}' not in path and path not in ('/api/auth/me/', '/api/health/', '/api/stats/',
                                                                '/api/openapi.json', '/api/docs/'):
        params += [{'name': 'page', 'in': 'query', 'schema': {'type': 'integer', 'minimum': 1}},
                   {'name': 'page_size', 'in': 'query', 'schema': {'type': 'integer', 'maximum': 200}}]
    if params:
        op['parameters'] = params
    return op


@functools.cache
def document():
    paths = {}
    for method, path, summary, who, schema, status in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, who, schema, status)
    return {
        'openapi': '3.0.3',
        'info': {'title': 'Poste Public', 'version': __version__,
                 'description': 'API de gestion des postes publics. Durées en secondes, dates ISO 8601.'},
        'paths': paths,
        'components': {
            'securitySchemes': {
                'bearer': {'type': 'http', 'scheme': 'bearer', 'bearerFormat': 'JWT'},
                'posteToken': {'type': 'apiKey', 'in': 'header', 'name': 'X-Poste-Token'},
            },
            'schemas': {'Error': {'type': 'object', 'required': ['detail'], 'properties': {
                'detail': {'type': 'string'},
                'errors': {'type': 'object', 'additionalProperties': {'type': 'array', 'items': {'type': 'string'}}},
            }}},
        },
    }
