"""The library's policy: opening hours and closing, visitor categories and their quotas, guest passes.

Called by the REST routes, by sessions.py (creating, starting, adding time) and by the timekeeper
(the closing notice and the closing itself). The other parts of the desk, and other branches of
work (pauses, time requests), ask through three methods with plain names:

    closing_time(now)                 the next closing while open, None when there is none
    check_open(now)                   409 while closed, saying when the library reopens
    quota_remaining(utilisateur, now) what is left today and this week, and the longest session

Hours are kept in the `state` table (key `horaires`, JSON, backed up with it) and read on demand
(one primary-key read): every process on a shared PostgreSQL sees a change at once.
"""
import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from appliance import audit, events, hours
from appliance.clock import iso, remaining_seconds
from appliance.db import writing
from appliance.errors import Conflict, Invalid
from appliance.models import Categorie, Log, Poste, Session, State, Utilisateur
from appliance.protocol import DISPONIBLE, EN_ATTENTE, MAINTENANCE, OCCUPE, RUNNING, TERMINEE, Reason
from appliance.serializers import session_json

HOURS_KEY = 'horaires'
NOTICE_KEY = 'fermeture.annoncee'   # the closing whose notice was sent (claimed once, all processes)


def duration_text(seconds):
    """'1 h 05', '40 min', '30 s' (what refusals and the dashboard say)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f'{seconds} s'
    minutes = seconds // 60
    if minutes < 60:
        return f'{minutes} min'
    return f'{minutes // 60} h {minutes % 60:02d}'


def categorie_json(c):
    return {'id': c.id, 'nom': c.nom, 'quota_jour': c.quota_jour, 'quota_semaine': c.quota_semaine,
            'duree_max_session': c.duree_max_session, 'age_min': c.age_min, 'age_max': c.age_max,
            'par_defaut': c.par_defaut}


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class Policy:
    def __init__(self, config, clock):
        super().__init__(config, clock)
        self.zone = ZoneInfo(config.time_zone)

    # -- opening hours ----------------------------------------------------------------------

    def schedule(self):
        row = State.get_or_none(State.key == HOURS_KEY)
        if row is None or not row.value:
            return hours.Schedule.from_json(hours.default_schedule())
        return hours.Schedule.from_json(json.loads(row.value))

    def horaires(self):
        return self.schedule().to_json()

    def set_horaires(self, data, *, operateur, ip):
        """Replace the hours (`data`: semaine, exceptions, avertissement_fermeture, each optional).
        Running sessions that would now run past the next closing are capped at it."""
        now = self.now()
        with writing():
            current = self.schedule().to_json()
            current.update(data)
            try:
                schedule = hours.clean_schedule(current)
            except hours.BadHours as bad:
                raise Invalid(bad.errors) from None
            value = json.dumps(schedule.to_json(), ensure_ascii=False)
            State.insert(key=HOURS_KEY, value=value).on_conflict(
                conflict_target=[State.key], update={State.value: value}).execute()
            audit.record('modification_horaires', now=now, operateur=operateur, ip=ip,
                         details='Horaires d’ouverture modifiés.',
                         metadata={'exceptions': len(schedule.exceptions),
                                   'avertissement_fermeture': schedule.notice})
            closing = hours.next_closing(schedule, self.zone, now)
            if closing is not None:
                for session in self._with_relations().where(Session.statut.in_(RUNNING),
                                                            Session.fin_prevue > closing):
                    session.fin_prevue = closing
                    session.limite_fermeture = True
                    session.save(only=[Session.fin_prevue, Session.limite_fermeture])
                    self._session_changed(session, now)
            events.publish(events.HOURS_CHANGED)
        return schedule.to_json()

    def horaires_etat(self, now=None):
        now = now or self.now()
        state = hours.state_at(self.schedule(), self.zone, now)
        return {'ouvert': state.ouvert, 'fermeture': iso(state.fermeture),
                'prochaine_ouverture': iso(state.prochaine_ouverture)}

    def closing_time(self, now=None):
        """The next closing (naive UTC) while the library is open; None when it is closed or
        never closes. A session must not run past it."""
        state = hours.state_at(self.schedule(), self.zone, now or self.now())
        return state.fermeture if state.ouvert else None

    def next_closing(self, now=None):
        """The first closing after `now`, open now or not (the timekeeper's plan)."""
        schedule = self.schedule()
        return hours.next_closing(schedule, self.zone, now or self.now()), schedule.notice

    def check_open(self, now=None, body=None):
        """409 while the library is closed, saying when it reopens."""
        state = hours.state_at(self.schedule(), self.zone, now or self.now())
        if state.ouvert:
            return
        when = (f' Elle rouvre {hours.local_text(state.prochaine_ouverture, self.zone)}.'
                if state.prochaine_ouverture else '')
        raise Conflict(f'La bibliothèque est fermée.{when}', body=body)

    def cap_at_closing(self, fin_prevue, now):
        """(deadline, capped?): `fin_prevue` brought back to the next closing if it lies beyond."""
        closing = self.closing_time(now)
        if closing is not None and fin_prevue > closing:
            return closing, True
        return fin_prevue, False

    def announce_closing(self, fermeture):
        """Send the closing notice for `fermeture` to every kiosk, once (whichever process claims
        it first). Returns True when this call sent it."""
        now = self.now()
        value = iso(fermeture)
        with writing():
            State.insert(key=NOTICE_KEY, value='').on_conflict_ignore().execute()
            won = State.update(value=value).where(State.key == NOTICE_KEY, State.value != value).execute()
            if not won:
                return False
            seconds = remaining_seconds(fermeture, now)
            message = hours.closing_message(seconds)
            audit.record('annonce_fermeture', now=now, details=f'Annonce aux postes : {message}',
                         metadata={'fermeture': value, 'secondes': seconds})
            events.publish(events.CLOSING_DUE, fermeture=value, secondes=seconds, message=message)
        return True

    def close_library(self, fermeture):
        """At closing: end every running session that its own deadline did not end (a suspended
        one, or one whose deadline somehow lies past the closing). Those capped at the closing end
        on their own deadline (raison fermeture_bibliotheque)."""
        now = self.now()
        ids = [s.id for s in Session.select(Session.id).where(
            Session.statut.in_(RUNNING), Session.fin_prevue.is_null() | (Session.fin_prevue > now))]
        ended = []
        for session_id in ids:
            with writing():
                session = self._load(session_id, skip_locked=True)
                if session is None or session.statut not in RUNNING:
                    continue
                ended.append(self._end(session, TERMINEE, Reason.LIBRARY_CLOSING, now,
                                       details='Fermeture de la bibliothèque.'))
        return ended

    def end_at_closing(self, sessions, now):
        """Inside writing(), with the rows locked: end `sessions`, whose deadline is the library's
        closing, all at once — a few statements for the whole batch instead of three per session
        (a room of a thousand postes closes within the second). Each session still gets its audit
        entry and its facts (its kiosk hears close_session), exactly as _end would do."""
        ids = [s.id for s in sessions]
        (Session.update(statut=TERMINEE, raison_fin=Reason.LIBRARY_CLOSING, fin_session=Session.fin_prevue)
         .where(Session.id.in_(ids)).execute())
        freed = [s.poste_id for s in sessions if s.poste_id and s.poste.statut == OCCUPE]
        if freed:
            Poste.update(statut=DISPONIBLE, updated_at=now).where(Poste.id.in_(freed), Poste.statut == OCCUPE).execute()
        metadata = json.dumps({'raison': Reason.LIBRARY_CLOSING}, ensure_ascii=False, sort_keys=True)
        Log.insert_many([{
            'action': 'fermeture', 'operateur': '', 'utilisateur': s.utilisateur_id,
            'utilisateur_nom': s.utilisateur.nom_complet if s.utilisateur_id else '',
            'session': s.id, 'poste': s.poste_id, 'poste_nom': s.poste.nom if s.poste_id else '',
            'details': 'Fermeture de la bibliothèque.', 'metadata': metadata, 'ip_address': None,
            'created_at': now} for s in sessions]).execute()
        for entry in Log.select().where(Log.session.in_(ids), Log.action == 'fermeture'):
            events.publish(events.LOG_WRITTEN, log=audit.to_json(entry))
        for s in sessions:
            s.statut, s.raison_fin, s.fin_session = TERMINEE, Reason.LIBRARY_CLOSING, s.fin_prevue
            if s.poste_id:
                if s.poste.statut == OCCUPE:
                    s.poste.statut, s.poste.updated_at = DISPONIBLE, now
                self._poste_changed(s.poste)
                events.publish(events.SESSION_ENDED, poste_id=s.poste_id, session_id=s.id,
                               raison=Reason.LIBRARY_CLOSING)
            self._session_changed(s, now)

    # -- categories -------------------------------------------------------------------------

    def categories(self):
        self.ensure_default_categorie()
        return [categorie_json(c) for c in Categorie.select().order_by(Categorie.nom)]

    def ensure_default_categorie(self):
        """Every library has one default category: « Tous publics », without limits, made the
        first time categories are used."""
        if Categorie.select().exists():
            return
        now = self.now()
        try:
            with writing():
                if not Categorie.select().exists():
                    Categorie.create(nom='Tous publics', par_defaut=True, created_at=now, updated_at=now)
        except IntegrityError:
            pass   # another process made it at the same moment

    def default_categorie(self):
        found = Categorie.select().where(Categorie.par_defaut == True).order_by(Categorie.id).first()  # noqa: E712
        return found or Categorie.select().order_by(Categorie.id).first()

    def categorie_of(self, utilisateur):
        if utilisateur.categorie:
            found = Categorie.get_or_none(Categorie.id == utilisateur.categorie)
            if found is not None:
                return found
        return self.default_categorie()

    def save_categorie(self, categorie, data, *, operateur, ip):
        """Create (categorie None) or change a category. Making one the default unmarks the other."""
        now = self.now()
        fields = dict(data)
        self.ensure_default_categorie()
        try:
            with writing():
                if categorie is None:
                    categorie = Categorie(created_at=now)
                elif fields.get('par_defaut') is False and categorie.par_defaut:
                    raise Conflict('Il faut une catégorie par défaut : désignez-en une autre plutôt.')
                merged = {**categorie_json(categorie), **fields} if categorie.id else fields
                low, high = merged.get('age_min'), merged.get('age_max')
                if low is not None and high is not None and low > high:
                    raise Invalid({'age_max': ['L’âge maximum doit être supérieur ou égal à l’âge minimum.']})
                creating = categorie.id is None
                for name, value in fields.items():
                    setattr(categorie, name, value)
                categorie.updated_at = now
                categorie.save()
                if fields.get('par_defaut'):
                    (Categorie.update(par_defaut=False)
                     .where(Categorie.id != categorie.id, Categorie.par_defaut == True).execute())  # noqa: E712
                audit.record('modification_categorie', now=now, operateur=operateur, ip=ip,
                             details=f'Catégorie « {categorie.nom} » {"créée" if creating else "modifiée"}.',
                             metadata={'categorie': categorie.id, 'champs': sorted(fields)})
        except IntegrityError:
            raise Conflict('Une catégorie porte déjà ce nom.') from None
        return categorie

    def delete_categorie(self, categorie, *, operateur, ip):
        now = self.now()
        with writing():
            if categorie.par_defaut:
                raise Conflict('La catégorie par défaut ne peut pas être supprimée : désignez-en une autre d’abord.')
            moved = Utilisateur.update(categorie=None).where(Utilisateur.categorie == categorie.id).execute()
            categorie.delete_instance()
            audit.record('modification_categorie', now=now, operateur=operateur, ip=ip,
                         details=f'Catégorie « {categorie.nom} » supprimée ({moved} visiteurs passent '
                                 'dans la catégorie par défaut).',
                         metadata={'categorie': categorie.id, 'supprimee': True, 'visiteurs': moved})

    # -- quotas -----------------------------------------------------------------------------

    def active_intervals(self, session, now):
        """[(start, end)] during which `session` was active (naive UTC). From its start to its end
        (now while it runs, never past its deadline). A pause (another part of the desk) is
        subtracted here: override to cut the paused spans out of this interval."""
        if session.debut_session is None:
            return []
        if session.fin_session is not None:
            end = session.fin_session
        elif session.fin_prevue is not None:
            end = min(now, session.fin_prevue)
        else:
            end = now
        # Pauses (fields of the live-control work, absent before it): a pause under way stops the
        # count at its start; the seconds of past pauses come off the end (where they fall inside
        # the session is not kept: a day boundary inside a paused span is approximate).
        pause_debut = getattr(session, 'pause_debut', None)
        if pause_debut is not None and session.fin_session is None:
            end = min(end, pause_debut)
        end -= timedelta(seconds=getattr(session, 'duree_pauses', 0) or 0)
        return [(session.debut_session, end)] if end > session.debut_session else []

    def time_used(self, utilisateur, start, end, now):
        """Active seconds of `utilisateur`'s sessions between start and end (naive UTC)."""
        used = 0.0
        for session in Session.select().where(
                Session.utilisateur == utilisateur.id, Session.debut_session.is_null(False),
                Session.debut_session < end,
                Session.fin_session.is_null() | (Session.fin_session > start)):
            for a, b in self.active_intervals(session, now):
                overlap = (min(b, end) - max(a, start)).total_seconds()
                if overlap > 0:
                    used += overlap
        return int(used)

    def quota_remaining(self, utilisateur, now=None):
        """{'categorie', 'jour': {'utilise', 'restant'}, 'semaine': {...}, 'duree_max_session'}
        (`restant` None when unlimited)."""
        now = now or self.now()
        categorie = self.categorie_of(utilisateur)
        result = {'categorie': categorie.id if categorie else None,
                  'categorie_nom': categorie.nom if categorie else None,
                  'duree_max_session': categorie.duree_max_session if categorie else None}
        for name, bounds, quota in (('jour', hours.day_bounds, 'quota_jour'),
                                    ('semaine', hours.week_bounds, 'quota_semaine')):
            start, end = bounds(now, self.zone)
            used = self.time_used(utilisateur, start, end, now)
            limit = getattr(categorie, quota) if categorie else None
            result[name] = {'utilise': used, 'restant': None if limit is None else max(0, limit - used),
                            'quota': limit}
        return result

    def allowance(self, utilisateur, now, *, running_left=0, whole_session=None):
        """(seconds that may still be given, the sentence saying so) — None when unlimited.
        `running_left`: time already promised by the session running (adding time);
        `whole_session`: that session's length so far (the longest-session rule)."""
        quota = self.quota_remaining(utilisateur, now)
        limits, words = [], []
        if quota['jour']['restant'] is not None:
            left = max(0, quota['jour']['restant'] - running_left)
            limits.append(left)
            words.append(f'il reste {duration_text(left)} aujourd’hui')
        if quota['semaine']['restant'] is not None:
            left = max(0, quota['semaine']['restant'] - running_left)
            limits.append(left)
            words.append(f'{duration_text(left)} cette semaine')
        if quota['duree_max_session'] is not None:
            left = max(0, quota['duree_max_session'] - (whole_session or 0))
            limits.append(left)
            words.append(f'une session dure au plus {duration_text(quota["duree_max_session"])}')
        if not limits:
            return None, ''
        return min(limits), ', '.join(words)

    def check_policy(self, utilisateur, seconds, now, *, force, operateur, ip, session=None,
                     running_left=0, whole_session=None):
        """Inside writing(): 409 when `seconds` exceed what the visitor's category allows (or its
        age range excludes the visitor), unless `force`; a forced excess is audited with who
        and how much."""
        if utilisateur is None:
            return   # guests obey opening hours only
        categorie = self.categorie_of(utilisateur)
        problems, excess = [], 0
        if categorie is not None and utilisateur.date_naissance is not None and (
                categorie.age_min is not None or categorie.age_max is not None):
            born = utilisateur.date_naissance
            if isinstance(born, str):
                born = date.fromisoformat(born[:10])
            age = age_on(born, hours.local_date(now, self.zone))
            if (categorie.age_min is not None and age < categorie.age_min) or (
                    categorie.age_max is not None and age > categorie.age_max):
                bounds = (f'de {categorie.age_min if categorie.age_min is not None else 0} à '
                          f'{categorie.age_max} ans' if categorie.age_max is not None
                          else f'à partir de {categorie.age_min} ans')
                problems.append(f'la catégorie « {categorie.nom} » est réservée aux visiteurs {bounds} '
                                f'(ce visiteur a {age} ans)')
        allowed, words = self.allowance(utilisateur, now, running_left=running_left, whole_session=whole_session)
        if allowed is not None and seconds > allowed:
            excess = seconds - allowed
            problems.append(f'quota dépassé : {words}')
        if not problems:
            return
        text = '; '.join(problems)
        if not force:
            detail = text[0].upper() + text[1:] + '.'
            raise Conflict(detail + ' Le personnel peut forcer.',
                           body={'restant': allowed, 'quota': self.quota_remaining(utilisateur, now)})
        who = getattr(operateur, 'username', '') or str(operateur or '')
        audit.record('depassement_quota', now=now, operateur=operateur, session=session, ip=ip,
                     details=f'Forcé par {who} pour {utilisateur.nom_complet} : {text}'
                             + (f' (dépassement de {duration_text(excess)}).' if excess else '.'),
                     metadata={'demande': seconds, 'restant': allowed, 'depassement': excess,
                               'utilisateur': utilisateur.id, 'par': who})

    def category_statistics(self, date_min, date_max, site=None):
        """Sessions and active time per visitor category over local days date_min..date_max."""
        from appliance.desk import stats
        start = stats.local_midnight_epoch(date_min)
        end = stats.local_midnight_epoch(date_max + timedelta(days=1))
        epoch = stats.EPOCH
        params = [start, stats.utc_epoch(self.now()), end,
                  stats.stored(epoch + timedelta(seconds=end)), stats.stored(epoch + timedelta(seconds=start))]
        default = self.default_categorie()
        return use_by_category(params, default.id if default else None, site)

    # -- guest passes -----------------------------------------------------------------------

    def create_guest_sessions(self, nombre, duree, poste, *, operateur, ip):
        """`nombre` access codes without a visitor (guest passes), on `poste` or any poste."""
        from appliance.desk.sessions import MAX_DURATION, MIN_DURATION
        if not MIN_DURATION <= duree <= MAX_DURATION:
            raise Invalid({'duree_initiale': [f'La durée doit être comprise entre {MIN_DURATION} '
                                              f'et {MAX_DURATION} secondes.']})
        now = self.now()
        self.check_open(now)
        created = []
        with writing():
            if poste is not None:
                poste = self._reload(poste)
                if poste.statut == MAINTENANCE:
                    raise Conflict(f'Le poste {poste.nom} est en maintenance.')
            for _ in range(nombre):
                session = Session.create(
                    code_acces=self._new_code(), utilisateur=None, poste=poste, duree_initiale=duree,
                    statut=EN_ATTENTE, operateur=getattr(operateur, 'username', ''), invite=True,
                    created_at=now)
                session.poste = poste
                created.append(session)
                self._session_changed(session, now)
            where = f'sur {poste.nom}' if poste else 'sur n’importe quel poste'
            audit.record('generation_code_invite', now=now, operateur=operateur, poste=poste, ip=ip,
                         details=f'{nombre} code(s) invité(s) généré(s) {where}, {duree // 60} min.',
                         metadata={'codes': [s.code_acces for s in created], 'duree': duree,
                                   'sessions': [s.id for s in created]})
        return created

    def guest_json(self, sessions):
        now = self.now()
        return [session_json(s, now) for s in sessions]



# -- statistics: use per category ---------------------------------------------------------------

USE_BY_CATEGORY = '''
    WITH s AS (
        SELECT utilisateur_id, invite,
               {greatest}({epoch_debut}, {p}) AS cs,
               {least}(COALESCE({epoch_fin}, {p}), {p}) AS ce
        FROM {sessions}
        WHERE debut_session IS NOT NULL AND debut_session < {p}
          AND (fin_session IS NULL OR fin_session > {p}))
    SELECT u.categorie, s.invite, COUNT(*), SUM(s.ce - s.cs)
    FROM s LEFT JOIN utilisateur u ON u.id = s.utilisateur_id
    WHERE s.ce > s.cs
    GROUP BY u.categorie, s.invite
'''


def use_by_category(params, default_id, site=None):
    """[{categorie, nom, sessions, duree}] for the period of `params` (as stats.CLIPPED takes them):
    every category (unused ones too), visitors without one under the default, guests apart."""
    from appliance.desk import stats
    names = {c.id: c.nom for c in Categorie.select(Categorie.id, Categorie.nom)}
    lines = {cid: {'categorie': cid, 'nom': nom, 'sessions': 0, 'duree': 0} for cid, nom in names.items()}
    for categorie, invite, count, seconds in stats.rows(USE_BY_CATEGORY, params, site):
        if invite:
            key, nom = 'invites', 'Invités'
        else:
            key = categorie if categorie in names else default_id
            nom = names.get(key, 'Sans catégorie')
        line = lines.setdefault(key, {'categorie': None, 'nom': nom, 'sessions': 0, 'duree': 0})
        line['sessions'] += count
        line['duree'] += int(seconds or 0)
    return sorted(lines.values(), key=lambda line: (line['categorie'] is None, line['nom'].lower()))
