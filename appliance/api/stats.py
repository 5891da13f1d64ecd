"""Usage statistics (`GET /api/stats/?date_min=&date_max=`): local calendar days, the last 30 by
default, at most 366. The figures themselves come from appliance/desk/stats.py."""
from datetime import date, timedelta

from bottle import request

from appliance.api.declared import STAFF, Query
from appliance.api.sites import SITE_FILTER, site_scope
from appliance.desk import stats
from appliance.errors import Invalid

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Far enough either way for any real question; the arithmetic on local days near year 1 or 9999
# would overflow.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)


def date_param(name, default):
    raw = (request.query.get(name) or '').strip()
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise Invalid({name: ['Date invalide : utilisez AAAA-MM-JJ.']}) from None
    if not EARLIEST <= value <= LATEST:
        raise Invalid({name: [f'Date hors limites : entre {EARLIEST:%d/%m/%Y} et {LATEST:%d/%m/%Y}.']})
    return value


def period(now):
    """(date_min, date_max), both included, in local days; `now` is naive UTC."""
    date_max = date_param('date_max', stats.local_today(now))
    date_min = date_param('date_min', date_max - timedelta(days=DEFAULT_DAYS - 1))
    if date_min > date_max:
        raise Invalid({'date_min': ['La date de début doit précéder la date de fin.']})
    if (date_max - date_min).days >= MAX_DAYS:
        raise Invalid({'date_min': [f'Période limitée à {MAX_DAYS} jours.']})
    return date_min, date_max


PERIOD = (
    Query('date_min', {'type': 'string', 'anyOf': [{'format': 'date'}, {'maxLength': 0}]},
          f'Premier jour local inclus (par défaut, les {DEFAULT_DAYS} jours qui finissent à date_max).'),
    Query('date_max', {'type': 'string', 'anyOf': [{'format': 'date'}, {'maxLength': 0}]},
          f'Dernier jour local inclus (par défaut, aujourd’hui) ; {MAX_DAYS} jours au plus en tout.'),
)


def routes(app, ctx):
    @app.get('/api/stats/', auth=STAFF, query=PERIOD + (SITE_FILTER,),
             summary='Statistiques d’usage agrégées, sans donnée personnelle (30 derniers jours par défaut)')
    def statistics(compte):
        site = site_scope(compte)
        now = ctx.clock.now()
        date_min, date_max = period(now)
        return ctx.desk.statistics(date_min, date_max, site=site)
