"""The audit log, read-only (docs/api.md)."""
from bottle import request

from appliance.api.declared import STAFF, Query, Row
from appliance.api.pagination import PAGINATION, int_param, paginate
from appliance.api.validation import parse_datetime_param
from appliance.audit import ACTIONS, to_json
from appliance.errors import Invalid
from appliance.api.sites import SITE_FILTER, site_scope
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
    @app.get('/api/logs/', auth=STAFF, query=FILTERS + PAGINATION, summary='Journal d’audit')
    def list_logs(compte):
        site = site_scope(compte)
        query = Log.select().order_by(Log.created_at.desc(), Log.id.desc())
        if site is not None:   # with the entries of the whole network (backups, purges)
            query = query.where((Log.site == site) | Log.site.is_null())
        action = request.query.get('action')
        if action:
            if action not in ACTIONS:
                raise Invalid({'action': ['Action inconnue.']})
            query = query.where(Log.action == action)
        for name in ('utilisateur', 'poste', 'session'):
            value = int_param(name)
            if value is not None:
                query = query.where(getattr(Log, name) == value)
        for name, compare in (('date_min', '__ge__'), ('date_max', '__le__')):
            raw = request.query.get(name)
            if raw:
                when = parse_datetime_param(name, raw)
                if name == 'date_max' and len(raw.strip()) == 10:
                    when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
                query = query.where(getattr(Log.created_at, compare)(when))
        return paginate(query, lambda rows: [to_json(e) for e in rows])

    @app.get('/api/logs/<log_id:re:[0-9]+>/', auth=STAFF, wildcards={'log_id': ENTRY}, summary='Entrée du journal')
    def show_log(entry):
        return to_json(entry)
