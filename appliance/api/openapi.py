"""The OpenAPI 3 document of the REST API, read from what each route declares (api/declared.py):
who may call it, its parameters, the schema its body is validated with, its success status."""
from appliance import __version__
from appliance.api.declared import ADMIN, KIOSK, METRICS, STAFF, WILDCARD, Declaration
from appliance.api.validation import body_required, schema_openapi

ERRORS = {'400': 'Données invalides', '401': 'Non authentifié', '403': 'Interdit', '404': 'Introuvable',
          '409': 'Conflit d’état', '413': 'Corps trop volumineux', '415': 'Type de contenu refusé',
          '429': 'Trop de tentatives (Retry-After)'}
WHO = {STAFF: 'Personnel authentifié.', ADMIN: 'Réservé aux administrateurs.',
       METRICS: 'Le jeton METRICS_TOKEN ou un administrateur.',
       KIOSK: 'Un kiosque (son jeton X-Poste-Token, ou son adresse IP quand KIOSK_AUTH=ip) '
              'ou le personnel authentifié, qui indique alors le poste.'}


def document(app):
    """The document of every route of `app` under /api/ (but those declared openapi=False)."""
    paths = {}
    for route in app.routes:
        declared = Declaration(route)
        if route.rule.startswith('/api/') and declared.openapi:
            path, names = openapi_path(declared)
            paths.setdefault(path, {})[route.method.lower()] = operation(declared, path, names)
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


def openapi_path(declared):
    """('/api/postes/{id}/', {'poste_id': 'id'}): a path's one parameter is its `id`."""
    names = {name: 'id' if len(declared.names) == 1 else name for name in declared.names}
    path = WILDCARD.sub(lambda match: '{' + names[match.group(1)] + '}', declared.rule)
    return path, names


def operation(declared, path, names):
    op = {'summary': declared.summary, 'tags': [path.split('/')[2]],
          'responses': {str(declared.status): {'description': 'Succès'}}}
    for code, text in ERRORS.items():
        op['responses'][code] = {'description': text,
                                 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}}
    if declared.auth in (STAFF, ADMIN, METRICS):
        op['security'] = [{'bearer': []}]
    elif declared.auth == KIOSK:
        op['security'] = [{'posteToken': []}, {'bearer': []}]
    else:
        op['security'] = []
    if declared.auth in WHO:
        op['description'] = WHO[declared.auth]
    params = [{'name': names[name], 'in': 'path', 'required': True, 'schema': declared.wildcards[name].schema}
              for name in declared.names]
    params += [query.openapi() for query in declared.query]
    if params:
        op['parameters'] = params
    if declared.body is not None:
        schema = schema_openapi(declared.body, partial=declared.partial)
        op['requestBody'] = {'required': body_required(declared.body, partial=declared.partial),
                             'content': {'application/json': {'schema': schema}}}
    return op
