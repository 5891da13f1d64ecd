"""Usage statistics for the dashboard: aggregated counts and durations, no personal data.

compute(date_min, date_max, now) covers local calendar days (both included). The database
adds up per hour (UTC, as stored); Python then folds those hours into the box's local days and
weekday × hour slots, so daylight saving time is right on SQLite and PostgreSQL alike. (Zones whose
offset is not whole hours see each hour counted in the local hour where it starts.)
"""
import time
from datetime import datetime, timedelta

from appliance import db
from appliance.models import Poste

HOUR = 3600

# A session's time used: from its start to its end (now while it runs), clipped to the range.
CLIPPED = '''
    SELECT poste_id,
           {greatest}({epoch_debut}, {p}) AS cs,
           {least}(COALESCE({epoch_fin}, {p}), {p}) AS ce
    FROM {sessions}
    WHERE debut_session IS NOT NULL AND debut_session < {p}
      AND (fin_session IS NULL OR fin_session > {p})
'''
# Seconds used in each UTC hour: each session is spread over the hours it covers, using a small
# series of numbers 0..n (n = the longest session, in hours).
USE_BY_HOUR = '''
    WITH RECURSIVE s AS ({clipped}),
    n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n
             WHERE i < (SELECT COALESCE(MAX((ce - 1) / 3600 - cs / 3600), 0) FROM s))
    SELECT s.cs / 3600 + n.i AS h,
           SUM({least}(s.ce, (s.cs / 3600 + n.i + 1) * 3600) - {greatest}(s.cs, (s.cs / 3600 + n.i) * 3600))
    FROM s JOIN n ON n.i <= (s.ce - 1) / 3600 - s.cs / 3600
    WHERE s.ce > s.cs
    GROUP BY s.cs / 3600 + n.i
'''
USE_BY_POSTE = '''
    WITH s AS ({clipped})
    SELECT poste_id, COUNT(*), SUM(ce - cs) FROM s WHERE ce > cs GROUP BY poste_id
'''
STARTS_BY_HOUR = '''
    SELECT {epoch_debut} / 3600 AS h, COUNT(*) FROM {sessions}
    WHERE debut_session >= {p} AND debut_session < {p}
    GROUP BY {epoch_debut} / 3600
'''
# Sessions started in the range: how many, by how many visitors, how long the ended ones lasted
# (their pauses left out: time used, not time held).
TOTALS = '''
    SELECT COUNT(*), COUNT(DISTINCT utilisateur_id),
           AVG(CASE WHEN fin_session IS NOT NULL THEN {epoch_fin} - {epoch_debut} - duree_pauses END)
    FROM {sessions}
    WHERE debut_session >= {p} AND debut_session < {p}
'''
UNUSED_CODES = '''
    SELECT COUNT(*) FROM {sessions}
    WHERE debut_session IS NULL AND statut = 'expiree' AND created_at >= {p} AND created_at < {p}
'''


def dialect():
    """The few SQL spellings that differ between SQLite and PostgreSQL."""
    if db.is_sqlite():
        epoch = "CAST(strftime('%s', {}) AS INTEGER)"
        names = {'greatest': 'MAX', 'least': 'MIN'}
    else:
        epoch = 'CAST(FLOOR(EXTRACT(EPOCH FROM {})) AS BIGINT)'
        names = {'greatest': 'GREATEST', 'least': 'LEAST'}
    return {**names, 'p': db.database.param, 'epoch_debut': epoch.format('debut_session'),
            'epoch_fin': epoch.format('fin_session')}


def sql(template, site=None, **extra):
    words = dialect()
    # One site: its sessions only (an id, never text from the request).
    words['sessions'] = ('poste_session' if site is None else
                         f'(SELECT * FROM poste_session WHERE site_id = {int(site)}) AS poste_session')
    words['clipped'] = CLIPPED.format(**words)
    return template.format(**words, **extra)


def rows(template, params, site=None):
    return db.database.execute_sql(sql(template, site), params).fetchall()


def stored(moment):
    """A naive UTC datetime as a query parameter, in the form each engine stores it."""
    return moment.isoformat(' ') if db.is_sqlite() else moment


EPOCH = datetime(1970, 1, 1)


def utc_epoch(moment):
    return int((moment - EPOCH).total_seconds())


def local_today(now):
    """The box's local calendar day at `now` (naive UTC)."""
    return datetime.fromtimestamp(utc_epoch(now)).date()


def local_midnight_epoch(day):
    """Seconds since 1970 of `day` at 00:00 in the box's local time (mktime knows its DST rules)."""
    return int(time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1)))


def compute(date_min, date_max, now, site=None):
    """The statistics of the local days date_min..date_max; `now` is naive UTC."""
    start = local_midnight_epoch(date_min)
    end = local_midnight_epoch(date_max + timedelta(days=1))
    now_epoch = utc_epoch(now)
    start_dt, end_dt = EPOCH + timedelta(seconds=start), EPOCH + timedelta(seconds=end)
    clipped = [start, now_epoch, end, stored(end_dt), stored(start_dt)]
    between = [stored(start_dt), stored(end_dt)]

    use_by_hour = dict(rows(USE_BY_HOUR, clipped, site))
    starts_by_hour = dict(rows(STARTS_BY_HOUR, between, site))
    sessions, visitors, average = rows(TOTALS, between, site)[0]
    unused = rows(UNUSED_CODES, between, site)[0][0]

    days = {date_min + timedelta(days=i): {'sessions': 0, 'duree': 0}
            for i in range((date_max - date_min).days + 1)}
    used = [[0] * 24 for _ in range(7)]      # seconds used, weekday (Monday 0) × local hour
    occurrences = [[0] * 24 for _ in range(7)]  # how many of each slot the period has had so far
    for hour in range(start // HOUR, -(-end // HOUR)):
        local = datetime.fromtimestamp(hour * HOUR)
        day = days.get(local.date())
        if day is None:
            continue
        day['sessions'] += starts_by_hour.get(hour, 0)
        seconds = int(use_by_hour.get(hour, 0))
        day['duree'] += seconds
        used[local.weekday()][local.hour] += seconds
        if hour * HOUR < now_epoch:
            occurrences[local.weekday()][local.hour] += 1

    return {
        'date_min': date_min.isoformat(),
        'date_max': date_max.isoformat(),
        'postes': postes_of(site).count(),
        'site': site,
        'totaux': {
            'sessions': sessions,
            'visiteurs': visitors,
            'duree_totale': sum(d['duree'] for d in days.values()),
            'duree_moyenne': round(average) if average is not None else None,
            'codes_non_utilises': unused,
        },
        'par_jour': [{'date': d.isoformat(), **values} for d, values in days.items()],
        'occupation': [[round(used[w][h] / HOUR / occurrences[w][h], 2) if occurrences[w][h] else 0
                        for h in range(24)] for w in range(7)],
        'par_poste': by_poste(rows(USE_BY_POSTE, clipped, site), site),
    }


def postes_of(site):
    return Poste.select() if site is None else Poste.select().where(Poste.site == site)


def by_poste(found, site=None):
    """Every poste (unused ones too), then the time of postes since deleted under one line."""
    names = {p.id: p.nom for p in postes_of(site).select(Poste.id, Poste.nom)}
    result = {pid: {'poste': pid, 'nom': nom, 'sessions': 0, 'duree': 0} for pid, nom in names.items()}
    for poste_id, count, seconds in found:
        key = poste_id if poste_id in names else None
        line = result.setdefault(key, {'poste': None, 'nom': 'Postes supprimés', 'sessions': 0, 'duree': 0})
        line['sessions'] += count
        line['duree'] += int(seconds or 0)
    return sorted(result.values(), key=lambda line: (line['poste'] is None, line['nom'].lower()))
