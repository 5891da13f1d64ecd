"""The audit log, read-only (docs/api.md)."""
import time

from bottle import request, response

from appliance.api.declared import STAFF, Query, Row
from appliance.api.pagination import PAGINATION, int_param, paginate
from appliance.api.validation import parse_datetime_param
from appliance.audit import ACTIONS, to_json
from appliance.errors import Invalid
from appliance.api.sites import SITE_FILTER, site_scope
from appliance.api.http import dumps
from appliance.logcount import LogCounter, PageCache
from appliance.models import Log

ENTRY = Row(Log, 'Entrée du journal introuvable.')
# A date, a date and time, or nothing (no limit).
DATE_OR_TIME = {'type': 'string', 'anyOf': [{'format': 'date'}, {'format': 'date-time'}, {'maxLength': 0}]}
FILTERS = (
    Query('action', {'type': 'string', 'enum': list(ACTIONS)}),
    *(Query(name, {'type': 'integer', 'minimum': 1}, f'Identifiant : entrées qui concernent ce {what}.')
      for name, what in (('utilisateur', 'visiteur'), ('poste', 'poste'), ('session', 'session'))),
    Query('date_min', DATE_OR_TIME, 'Depuis ce moment : AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS (UTC sans fuseau).'),
    Query('date_max', DATE_OR_TIME, 'Jusqu’à ce moment, même format ; une date seule inclut sa journée.'),
    SITE_FILTER,
)


def routes(app, ctx):
    counter = LogCounter(ctx.clock.now)   # exact counts without a full count per page (logcount.py)
    pages = PageCache(time.monotonic)

    @app.get('/api/logs/', auth=STAFF, query=FILTERS + PAGINATION, summary='Journal d’audit')
    def list_logs(compte):
        site = site_scope(compte)
        query = Log.select()
        key = [('site', site)]
        if site is not None:   # with the entries of the whole network (backups, purges)
            query = query.where((Log.site == site) | Log.site.is_null())
        action = request.query.get('action')
        if action:
            if action not in ACTIONS:
                raise Invalid({'action': ['Action inconnue.']})
            query = query.where(Log.action == action)
            key.append(('action', action))
        for name in ('utilisateur', 'poste', 'session'):
            value = int_param(name)
            if value is not None:
                query = query.where(getattr(Log, name) == value)
                key.append((name, value))
        for name, compare in (('date_min', '__ge__'), ('date_max', '__le__')):
            raw = request.query.get(name)
            if raw:
                when = parse_datetime_param(name, raw)
                if name == 'date_max' and len(raw.strip()) == 10:
                    when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
                query = query.where(getattr(Log.created_at, compare)(when))
                key.append((name, when))
        # The same page of the same log is answered again from memory (logcount.PageCache).
        page_key = (tuple(key), request.query.get('page'), request.query.get('page_size'),
                    request.urlparts.scheme, request.urlparts.netloc)
        ends = pages.ends()
        text = pages.get(page_key, ends)
        if text is None:
            count = counter.count(tuple(key), query)
            text = dumps(paginate(query.order_by(Log.created_at.desc(), Log.id.desc()),
                                  lambda rows: [to_json(e) for e in rows], count=count))
            pages.put(page_key, ends, text)
        response.content_type = 'application/json; charset=utf-8'
        return text

    @app.get('/api/logs/<log_id:re:[0-9]+>/', auth=STAFF, wildcards={'log_id': ENTRY}, summary='Entrée du journal')
    def show_log(entry):
        return to_json(entry)
