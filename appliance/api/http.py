"""HTTP plumbing shared by every route: JSON in and out, errors, who is calling.

Routes raise appliance.errors.AppError subclasses; the `json_api` plugin turns them (and anything
unexpected) into the contract's error body, so no input ever gets an HTML page or a bare 500.
"""
import json
import logging

import bottle
from bottle import request, response

from appliance import db
from appliance.errors import (AppError, Forbidden, Invalid, NotFound, TooLarge, Unauthorized,
                              UnsupportedMediaType)

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1024 * 1024
JSON_TYPE = 'application/json'


def dumps(data):
    return json.dumps(data, ensure_ascii=False, separators=(',', ':'))


def error_body(status, detail, errors=None, extra=None):
    body = dict(extra or {})
    body['detail'] = detail
    if errors:
        body['errors'] = errors
    return body


def json_api(callback):
    """Bottle plugin: dict/list results become JSON; AppError becomes its status and body."""
    def wrapper(*args, **kwargs):
        try:
            result = callback(*args, **kwargs)
        except AppError as exc:
            response.status = exc.status
            for name, value in exc.headers.items():
                response.set_header(name, value)
            result = exc.to_json()
        except bottle.HTTPResponse:
            raise
        except db.UNAVAILABLE as exc:
            # The database is out of reach (a network's central PostgreSQL behind a cut link), or
            # every connection is busy: the client may try again; nothing was changed.
            log.warning('database unavailable on %s %s: %s', request.method, request.path, db.first_line(exc))
            response.status = 503
            response.set_header('Retry-After', '5')
            result = {'detail': 'Base de données injoignable : réessayez dans un instant.'}
        except Exception:
            log.exception('unexpected error on %s %s', request.method, request.path)
            response.status = 500
            result = {'detail': 'Erreur interne du serveur.'}
        if isinstance(result, (dict, list)):
            response.content_type = 'application/json; charset=utf-8'
            return dumps(result)
        return result
    return wrapper


def body():
    """The request's JSON object. 415 for another content type, 413 past 1 MiB, 400 if malformed."""
    content_type = request.content_type.split(';', 1)[0].strip().lower()
    length = request.content_length
    if length > MAX_JSON_BYTES:
        raise TooLarge('Corps de requête trop volumineux (1 Mio au plus).')
    if content_type != JSON_TYPE:
        if not content_type and length <= 0:
            return {}
        raise UnsupportedMediaType(f'Type de contenu non pris en charge : utilisez {JSON_TYPE}.')
    raw = request.body.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge('Corps de requête trop volumineux (1 Mio au plus).')
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode('utf-8'))
        dumps(data).encode('utf-8')  # a lone surrogate ("\ud800") could be neither stored nor echoed
    except (UnicodeError, ValueError, RecursionError):  # RecursionError: [[[[…]]]] nested too deep
        raise Invalid({}, detail='JSON invalide.') from None
    if not isinstance(data, dict):
        raise Invalid({}, detail='Le corps doit être un objet JSON.')
    # PostgreSQL refuses NUL in text where SQLite stores it: refused here, on both engines, for
    # every field (those no schema reads included), named when it is a field's value.
    with_nul = sorted(name for name, value in data.items() if contains_nul(value))
    if with_nul:
        raise Invalid({name[:100]: ['Caractère nul interdit.'] for name in with_nul},
                      detail='Caractère nul (\\u0000) interdit dans le JSON.')
    if contains_nul(list(data)):
        raise Invalid({}, detail='Caractère nul (\\u0000) interdit dans le JSON.')
    return data


def contains_nul(value):
    """True when a NUL character is in any string (keys included) of a parsed JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if '\x00' in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def client_ip():
    # The appliance is reached directly on the LAN: X-Forwarded-For would be the client's word.
    return request.environ.get('REMOTE_ADDR') or ''


def bearer_token():
    header = request.get_header('Authorization', '')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        return None
    return token.strip()


def current_compte(app):
    """The staff account making this request, authenticated once per request."""
    if 'poste.compte' not in request.environ:
        token = bearer_token()
        if token is None:
            raise Unauthorized("Authentification requise : en-tête « Authorization: Bearer <jeton> ».")
        request.environ['poste.compte'] = app.authenticator.authenticate(token)
    return request.environ['poste.compte']


def require_staff(app):
    return current_compte(app)


def require_admin(app):
    compte = current_compte(app)
    if compte.role != 'admin':
        raise Forbidden('Action réservée aux administrateurs.')
    return compte


def is_digits(value):
    """ASCII digits only: int() alone would also take " 7", "+7", "0_7" or Arabic-Indic digits."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def int_id(value):
    """Path ids are digits only; anything else is simply not found."""
    if not is_digits(value):
        return None
    number = int(value)
    return number if 0 < number < 2 ** 63 else None


def get_or_404(model, raw_id, message):
    number = int_id(raw_id)
    row = model.get_or_none(model.id == number) if number else None
    if row is None:
        raise NotFound(message)
    return row
