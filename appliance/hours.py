"""Opening hours: pure logic on the library's local time, with the instant passed in.

Hours are written in the library's local time (TIME_ZONE, a zoneinfo name); instants are naive UTC
datetimes, like everything the database stores. A day's ranges are turned into UTC intervals through
zoneinfo, so a Sunday of daylight saving time has the right length: "09:00-18:00" on the last Sunday
of March in Europe/Paris lasts 9 real hours, and 02:30 (which does not exist that night) means 03:30.

A schedule is the JSON of GET /api/horaires/:
    {"semaine": {"lundi": [["09:00", "12:30"], ["14:00", "18:00"]], ..., "dimanche": []},
     "exceptions": [{"date": "2026-12-25", "plages": [], "motif": "Noël"}],
     "avertissement_fermeture": 900}
A week with no range on any day means "no hours": every ordinary day is open from midnight to
midnight (the default, always open); dated exceptions still apply.
"""
import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ('lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche')
DEFAULT_NOTICE = 900
HORIZON_DAYS = 400      # how far ahead the next opening or closing is looked for
END_OF_DAY = '24:00'


class BadHours(ValueError):
    """A schedule that cannot be used; `errors` is {field: [message]} in French."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def default_schedule():
    return {'semaine': {day: [] for day in DAYS}, 'exceptions': [], 'avertissement_fermeture': DEFAULT_NOTICE}


# -- the time zone ----------------------------------------------------------------------------

def system_zone_name():
    """The system's zone name (TZ, /etc/timezone, the /etc/localtime link), or 'UTC'."""
    candidates = [os.environ.get('TZ', '').lstrip(':')]
    try:
        with open('/etc/timezone', encoding='utf-8') as f:
            candidates.append(f.read().strip())
    except OSError:
        pass
    try:
        link = os.path.realpath('/etc/localtime')
        if '/zoneinfo/' in link:
            candidates.append(link.split('/zoneinfo/', 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name and zone_or_none(name) is not None:
            return name
    return 'UTC'


def zone_or_none(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


# -- reading and checking a schedule ----------------------------------------------------------

def parse_clock(text, *, end=False):
    """'HH:MM' or 'HH:MM:SS' as seconds since midnight ('24:00' only as an end)."""
    if not isinstance(text, str):
        raise ValueError
    parts = text.strip().split(':')
    if len(parts) not in (2, 3) or not all(len(p) == 2 and p.isascii() and p.isdigit() for p in parts):
        raise ValueError
    h, m, s = (int(p) for p in parts + ['00'] * (3 - len(parts)))
    if end and (h, m, s) == (24, 0, 0):
        return 86400
    if h > 23 or m > 59 or s > 59:
        raise ValueError
    return h * 3600 + m * 60 + s


def format_clock(seconds):
    if seconds == 86400:
        return END_OF_DAY
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f'{h:02d}:{m:02d}' + (f':{s:02d}' if s else '')


def clean_ranges(value, field):
    """A day's ranges as sorted [(start, end)] seconds; BadHours on a bad or overlapping range."""
    if not isinstance(value, list) or len(value) > 24:
        raise BadHours({field: ['Une liste de plages [["HH:MM", "HH:MM"], …] est attendue.']})
    ranges = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise BadHours({field: ['Chaque plage est une paire ["HH:MM", "HH:MM"].']})
        try:
            start, end = parse_clock(item[0]), parse_clock(item[1], end=True)
        except ValueError:
            raise BadHours({field: ['Heure invalide : utilisez HH:MM ou HH:MM:SS (00:00 à 24:00).']}) from None
        if start >= end:
            raise BadHours({field: [f'La plage {item[0]}–{item[1]} finit avant de commencer.']})
        ranges.append((start, end))
    ranges.sort()
    for (s1, e1), (s2, e2) in zip(ranges, ranges[1:]):
        if s2 < e1:
            raise BadHours({field: [f'Les plages {format_clock(s1)}–{format_clock(e1)} et '
                                    f'{format_clock(s2)}–{format_clock(e2)} se chevauchent.']})
    return ranges


def clean_schedule(data):
    """The JSON of PUT /api/horaires/ checked and normalised; BadHours with every problem."""
    if not isinstance(data, dict):
        raise BadHours({'non_field_errors': ['Un objet JSON est attendu.']})
    errors = {}
    unknown = set(data) - {'semaine', 'exceptions', 'avertissement_fermeture'}
    for name in sorted(unknown):
        errors[name] = ['Champ inconnu.']
    semaine = data.get('semaine', {})
    week = {}
    if not isinstance(semaine, dict):
        errors['semaine'] = ['Un objet {"lundi": [...], …, "dimanche": [...]} est attendu.']
    else:
        for name in semaine:
            if name not in DAYS:
                errors[f'semaine.{name}'] = [f'Jour inconnu : {", ".join(DAYS)}.']
        for day in DAYS:
            try:
                week[day] = clean_ranges(semaine.get(day, []), f'semaine.{day}')
            except BadHours as bad:
                errors.update(bad.errors)
    exceptions, seen = [], set()
    raw = data.get('exceptions', [])
    if not isinstance(raw, list) or len(raw) > 1000:
        errors['exceptions'] = ['Une liste d’au plus 1000 exceptions est attendue.']
        raw = []
    for i, item in enumerate(raw):
        field = f'exceptions.{i}'
        if not isinstance(item, dict) or set(item) - {'date', 'plages', 'motif'} or 'date' not in item:
            errors[field] = ['Une exception est {"date": "AAAA-MM-JJ", "plages": [...], "motif": "…"}.']
            continue
        try:
            day = date.fromisoformat(item['date']) if isinstance(item['date'], str) else None
        except ValueError:
            day = None
        if day is None:
            errors[f'{field}.date'] = ['Une date au format AAAA-MM-JJ est requise.']
            continue
        if day in seen:
            errors[f'{field}.date'] = [f'La date {day.isoformat()} figure deux fois.']
            continue
        seen.add(day)
        motif = item.get('motif', '')
        if not isinstance(motif, str) or len(motif) > 200 or '\x00' in motif:
            errors[f'{field}.motif'] = ['Un texte d’au plus 200 caractères est attendu.']
            continue
        try:
            ranges = clean_ranges(item.get('plages', []), f'{field}.plages')
        except BadHours as bad:
            errors.update(bad.errors)
            continue
        exceptions.append({'date': day, 'plages': ranges, 'motif': motif.strip()})
    notice = data.get('avertissement_fermeture', DEFAULT_NOTICE)
    if isinstance(notice, bool) or not isinstance(notice, int) or not 0 <= notice <= 7200:
        errors['avertissement_fermeture'] = ['Un nombre entier de secondes entre 0 et 7200 est attendu.']
    if errors:
        raise BadHours(errors)
    exceptions.sort(key=lambda e: e['date'])
    return Schedule(week, exceptions, notice)


class Schedule:
    """A checked schedule: week ranges and exceptions in seconds since local midnight."""

    def __init__(self, week, exceptions, notice):
        self.week = week
        self.exceptions = {e['date']: e for e in exceptions}
        self.notice = notice
        self.configured = any(week.values())

    @classmethod
    def from_json(cls, data):
        return clean_schedule(data)

    def to_json(self):
        return {
            'semaine': {day: [[format_clock(s), format_clock(e)] for s, e in self.week[day]] for day in DAYS},
            'exceptions': [{'date': d.isoformat(), 'motif': e['motif'],
                            'plages': [[format_clock(s), format_clock(e2)] for s, e2 in e['plages']]}
                           for d, e in sorted(self.exceptions.items())],
            'avertissement_fermeture': self.notice,
        }

    @property
    def always_open(self):
        return not self.configured and not self.exceptions

    def ranges_of(self, day):
        """The ranges of a local calendar day, in seconds since its midnight."""
        if day in self.exceptions:
            return self.exceptions[day]['plages']
        if not self.configured:
            return [(0, 86400)]
        return self.week[DAYS[day.weekday()]]


def to_utc(day, seconds, zone):
    """Local `day` at `seconds` past midnight (86400 = the next midnight), as naive UTC."""
    if seconds >= 86400:
        day, seconds = day + timedelta(days=1), seconds - 86400
    local = datetime.combine(day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60), tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(now, zone):
    return now.replace(tzinfo=timezone.utc).astimezone(zone).date()


def intervals(schedule, zone, now, days=HORIZON_DAYS):
    """Open intervals (naive UTC, merged when they touch) from the day before `now`'s local day on."""
    first = local_date(now, zone) - timedelta(days=1)
    current = None
    for offset in range(days + 2):
        day = first + timedelta(days=offset)
        for start, end in schedule.ranges_of(day):
            a, b = to_utc(day, start, zone), to_utc(day, end, zone)
            if b <= a:
                continue
            if current is not None and a <= current[1]:
                current = (current[0], max(current[1], b))
                continue
            if current is not None:
                yield current
            current = (a, b)
    if current is not None:
        yield current


class State:
    """The library's state at one instant: open or not, the next closing, the next opening."""

    def __init__(self, ouvert, fermeture, prochaine_ouverture):
        self.ouvert, self.fermeture, self.prochaine_ouverture = ouvert, fermeture, prochaine_ouverture

    def __repr__(self):
        return f'State({self.ouvert}, {self.fermeture}, {self.prochaine_ouverture})'


def state_at(schedule, zone, now):
    """Open at `now`?, when it closes (None: always open, or closed now), when it next opens.

    A run of days open around the clock has no closing inside the horizon: `fermeture` is then None."""
    if schedule.always_open:
        return State(True, None, None)
    horizon_end = now + timedelta(days=HORIZON_DAYS - 1)
    current = None
    for start, end in intervals(schedule, zone, now):
        if end <= now:
            continue
        if start <= now:
            current = (start, end)
            continue
        if current is not None:
            # Open now: closes at the end of this interval; reopens at the start of the next.
            return State(True, current[1] if current[1] < horizon_end else None, start)
        return State(False, None, start)
    if current is not None:
        return State(True, current[1] if current[1] < horizon_end else None, None)
    return State(False, None, None)


def next_closing(schedule, zone, now):
    """The first closing strictly after `now` (open now or not), or None."""
    if schedule.always_open:
        return None
    horizon_end = now + timedelta(days=HORIZON_DAYS - 1)
    for start, end in intervals(schedule, zone, now):
        if end > now:
            return end if end < horizon_end else None
    return None


def day_bounds(now, zone):
    """[start, end) of `now`'s local day, naive UTC."""
    day = local_date(now, zone)
    return to_utc(day, 0, zone), to_utc(day, 86400, zone)


def week_bounds(now, zone):
    """[start, end) of `now`'s local week (Monday to Sunday), naive UTC."""
    day = local_date(now, zone)
    monday = day - timedelta(days=day.weekday())
    return to_utc(monday, 0, zone), to_utc(monday + timedelta(days=7), 0, zone)


def local_text(moment, zone):
    """'le 24/12/2026 à 09:00', in the library's local time."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(zone)
    return f'le {local:%d/%m/%Y} à {local:%H:%M}'


def closing_message(seconds):
    minutes = max(1, round(seconds / 60))
    if seconds < 60:
        return f'La bibliothèque ferme dans {seconds} secondes.'
    return 'La bibliothèque ferme dans 1 minute.' if minutes == 1 else f'La bibliothèque ferme dans {minutes} minutes.'
