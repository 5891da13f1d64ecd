"""Paginated lists: {"count", "next", "previous", "results"} with ?page=N&page_size=M (max 200)."""
from urllib.parse import urlencode

from bottle import request

from appliance.api.declared import Query
from appliance.api.http import is_digits
from appliance.errors import Invalid, NotFound

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The query parameters of every paginated list, as routes declare them.
PAGINATION = (
    Query('page', {'type': 'integer', 'minimum': 1}, 'Numéro de page (1 par défaut ; 404 au-delà de la dernière).'),
    # No `maximum`: more than MAX_PAGE_SIZE is not refused, it is served as MAX_PAGE_SIZE.
    Query('page_size', {'type': 'integer', 'minimum': 1},
          f'Résultats par page ({DEFAULT_PAGE_SIZE} par défaut ; {MAX_PAGE_SIZE} au plus, même si plus est demandé).'),
)


def _positive_int(name, raw, default):
    if raw in (None, ''):
        return default
    # Digits only; a page number of 5,000 digits is merely far out of range (int() would refuse it).
    value = int(raw.lstrip('0')[:30] or '0') if is_digits(raw) else 0
    if value < 1:
        raise Invalid({name: ['Un nombre entier positif est requis.']})
    return value


def paginate(query, serialize_page):
    """One page of a query; `serialize_page(rows)` turns its rows into JSON objects."""
    page, size = _page_and_size()
    count = query.count()
    _check_page(page, size, count)
    return _envelope(page, size, count, serialize_page(list(query.paginate(page, size))))


def paginate_list(items):
    """One page of a list already in memory (already JSON objects)."""
    page, size = _page_and_size()
    _check_page(page, size, len(items))
    return _envelope(page, size, len(items), items[(page - 1) * size:page * size])


def _page_and_size():
    page = _positive_int('page', request.query.get('page'), 1)
    size = min(_positive_int('page_size', request.query.get('page_size'), DEFAULT_PAGE_SIZE),
               MAX_PAGE_SIZE)
    return page, size


def _check_page(page, size, count):
    if page > max(1, -(-count // size)):
        raise NotFound('Page invalide.')


def _envelope(page, size, count, results):
    return {
        'count': count,
        'next': _page_url(page + 1) if page * size < count else None,
        'previous': _page_url(page - 1) if page > 1 else None,
        'results': results,
    }


def _page_url(page):
    # WSGI hands the query over decoded as latin-1: re-encode to the bytes the client sent, so a
    # UTF-8 search term keeps its meaning in the link.
    params = [(k.encode('latin-1'), v.encode('latin-1')) for k, v in request.query.allitems() if k != 'page']
    params.append(('page', str(page)))
    return f'{request.urlparts.scheme}://{request.urlparts.netloc}{request.path}?{urlencode(params)}'


def int_param(name):
    """An optional integer query filter; 400 when it is not a number."""
    raw = request.query.get(name)
    if raw in (None, ''):
        return None
    if not is_digits(raw):
        raise Invalid({name: ['Un identifiant numérique est requis.']})
    value = int(raw) if len(raw) < 20 else 0
    if not 0 < value < 2 ** 63:
        raise Invalid({name: ['Identifiant hors limites.']})
    return value
