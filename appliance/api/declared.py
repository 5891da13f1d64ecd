"""Routes that declare themselves: who may call them, what they take, what they answer.

A route states it all as keywords of bottle's route decorator (bottle keeps unknown keywords in
`route.config`); the `Declared` plugin enforces it and the OpenAPI document is read from it:

    @app.post('/api/sessions/<session_id:re:[0-9]+>/add-time/', auth=STAFF, wildcards={'session_id': SESSION},
              body=ADD_TIME, summary='Ajouter du temps')
    def add_time(session, compte, data):

- `auth` (required): PUBLIC; KIOSK (a poste's X-Poste-Token, or its address under KIOSK_AUTH=ip,
  or staff); STAFF; ADMIN; METRICS (the scraper's METRICS_TOKEN, or an admin).
- `summary` (required): one line, in French, for the document.
- `wildcards`: the type of each wildcard of the rule: a Row (a numeric id; the handler gets the row,
  or the client a 404 with the row's message) or a Name (a text handed over as is). A Row's wildcard
  is written `<poste_id:re:[0-9]+>`: then `/api/postes/message/` is never taken for an id, and a
  method that only the literal path lacks is a 405, not "poste not found".
- `body`: a validation schema (api/validation.py): the JSON object is read and validated, only
  the fields sent for PATCH (`partial=False` says a PATCH takes the whole body, like PUT).
- `query`: the query parameters (Query), for the document only: each filter has its own rules,
  applied by the handler or by paginate().
- `status`: the success status when it is not 200: 201, or 204 (the handler then returns nothing).
- `openapi=False` leaves the route out of the document (Swagger UI's own files).
- `before_password_change=True`: an account that still has the password generated at first start
  may call it; every other staff route answers it 403 until that password is changed.

The handler gets the wildcards' values positionally, in the order of the rule; then, by keyword
and only when it names them: `compte` (the staff account calling; None for a kiosk or the metrics
scraper), `kiosk` (the poste of the kiosk calling, None when staff call) and `data` (the clean body).

Checks run in a fixed order clients can rely on: who is calling (401, 403), the path (404), the
site of the rows it names (403 for staff of another site), the body (413, 415, 400), then the
handler. A dict keyword is stored by bottle as dotted keys
(`body.nom`, `body.prenom`…): Declaration gathers them back (so an empty schema means no body).
"""
import hmac
import inspect
import re

from bottle import RouteError, request, response

from appliance import accounts
from appliance.api.http import bearer_token, body, client_ip, get_or_404, require_admin, require_staff
from appliance.api.validation import validate
from appliance.desk.sites import check_site
from appliance.errors import Forbidden, Unauthorized

PUBLIC, KIOSK, STAFF, ADMIN, METRICS = 'public', 'kiosk', 'staff', 'admin', 'metrics'
AUTH = (PUBLIC, KIOSK, STAFF, ADMIN, METRICS)
WILDCARD = re.compile(r'<(\w+)(?::[^>]*)?>')   # bottle's <name>, <name:filter> or <name:filter:config>
STATUSES = (200, 201, 204)


class Row:
    """A numeric id in the path, naming a row of `model`; 404 with `missing` when there is none."""
    schema = {'type': 'integer', 'minimum': 1}

    def __init__(self, model, missing):
        self.model, self.missing = model, missing

    def __call__(self, raw):
        return get_or_404(self.model, raw, self.missing)


class Name:
    """A text in the path (a file name), handed over as is: the handler checks it."""

    def __init__(self, schema):
        self.schema = schema

    def __call__(self, raw):
        return raw


class Query:
    """A query parameter, as the document states it."""

    def __init__(self, name, schema, description=''):
        self.name, self.schema, self.description = name, schema, description

    def openapi(self):
        param = {'name': self.name, 'in': 'query', 'schema': self.schema}
        if self.description:
            param['description'] = self.description
        return param


def gathered(config, key):
    """The dict given as keyword `key`, which bottle stored as `key.<name>` entries."""
    prefix = key + '.'
    return {name[len(prefix):]: value for name, value in config.items() if name.startswith(prefix)}


class Declaration:
    """What one route declares, read from its config."""

    def __init__(self, route):
        config = route.config
        self.method, self.rule = route.method, route.rule
        self.auth = config.get('auth')
        self.summary = config.get('summary')
        self.wildcards = gathered(config, 'wildcards')
        self.body = gathered(config, 'body') or None
        self.partial = config.get('partial', route.method == 'PATCH')
        self.query = tuple(config.get('query', ()))
        self.status = config.get('status', 200)
        self.openapi = config.get('openapi', True)
        self.before_password_change = config.get('before_password_change', False)
        self.names = WILDCARD.findall(route.rule)   # the rule's wildcards, in order

    def problem(self, handler):
        """What is wrong with the declaration or with the handler's parameters, or None."""
        if self.auth not in AUTH:
            return f'auth must be one of {", ".join(AUTH)}'
        if not self.summary:
            return 'no summary'
        if set(self.wildcards) != set(self.names):
            return f'wildcards must declare each wildcard of the rule: {", ".join(self.names) or "none"}'
        if self.status not in STATUSES:
            return f'status must be one of {STATUSES}'
        names = list(inspect.signature(handler).parameters)
        keywords = self.keywords(handler)
        allowed = {'compte'} if self.auth != PUBLIC else set()
        if self.auth == KIOSK:
            allowed.add('kiosk')
        if self.body is not None:
            allowed.add('data')
            if 'data' not in keywords:
                return 'the handler must take the body it declares as `data`'
        if len(names) < len(self.names) or not keywords <= allowed:
            return (f'the handler takes {", ".join(names) or "nothing"}: the wildcards first, '
                    f'then among {", ".join(sorted(allowed)) or "nothing"}')
        return None

    def keywords(self, handler):
        """The names the handler takes by keyword: those after the wildcards."""
        return set(list(inspect.signature(handler).parameters)[len(self.names):])


class Declared:
    """Bottle plugin enforcing each route's declaration. Install it after json_api, so that what it
    raises becomes a JSON error; every route must declare itself (RouteError when the plugin is
    applied, which create_app does at start-up)."""
    name, api = 'declared', 2

    def __init__(self, ctx):
        self.ctx = ctx
        self.callers = {PUBLIC: self.anybody, KIOSK: self.kiosk_or_staff, STAFF: self.staff,
                        ADMIN: self.admin, METRICS: self.scraper_or_admin}

    def apply(self, callback, route):
        declared = Declaration(route)
        problem = declared.problem(route.callback)
        if problem:
            raise RouteError(f'{route.method} {route.rule}: {problem}')
        caller = self.callers[declared.auth]
        resolvers = [(name, declared.wildcards[name]) for name in declared.names]
        keywords = declared.keywords(route.callback)
        wants_compte, wants_kiosk = 'compte' in keywords, 'kiosk' in keywords
        schema, partial, status = declared.body, declared.partial, declared.status
        password_first = not declared.before_password_change

        def wrapper(**url_args):
            compte, kiosk = caller()
            if password_first and compte is not None and self.has_initial_password(compte):
                raise Forbidden('Changez d’abord le mot de passe initial de ce compte.',
                                body={'must_change_password': True})
            args = [resolve(url_args[name]) for name, resolve in resolvers]
            for row in args:   # staff act on their own site only (403); admins on all
                check_site(compte, row)
            kwargs = {}
            if wants_compte:
                kwargs['compte'] = compte
            if wants_kiosk:
                kwargs['kiosk'] = kiosk
            if schema is not None:
                kwargs['data'] = validate(body(), schema, partial=partial)
            result = callback(*args, **kwargs)
            if status != 200:
                response.status = status
                if result is None:
                    result = ''
            return result
        return wrapper

    def has_initial_password(self, compte):
        return accounts.has_initial_password(self.ctx.config.data_dir, compte)

    # -- who is calling: (compte, kiosk) ----------------------------------------------------------

    def anybody(self):
        return None, None

    def staff(self):
        return require_staff(self.ctx), None

    def admin(self):
        return require_admin(self.ctx), None

    def kiosk_or_staff(self):
        """A kiosk proves its poste (its token, or its address under KIOSK_AUTH=ip); staff their
        account. The kiosk reads `valid: false` in every refusal."""
        desk = self.ctx.desk
        token = request.get_header('X-Poste-Token')
        if token:
            poste = desk.poste_for_token(token)
            if poste is None:
                raise Forbidden('Jeton de poste invalide.', body={'valid': False})
            return None, poste
        if bearer_token():
            return require_staff(self.ctx), None
        if self.ctx.config.kiosk_auth == 'ip':
            poste = desk.poste_for_address(client_ip())
            if poste is not None:
                return None, poste
            raise Forbidden('Cette adresse ne correspond à aucun poste.', body={'valid': False})
        raise Unauthorized('Authentification requise : jeton de poste ou de personnel.',
                           body={'valid': False})

    def scraper_or_admin(self):
        """The monitoring scraper's METRICS_TOKEN (compared in constant time), or an admin."""
        expected = self.ctx.config.metrics_token
        token = bearer_token()
        if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
            return None, None
        return require_admin(self.ctx), None
