"""The library's policy with the injected clock: opening hours (daylight saving days in Europe/Paris),
the cap at closing, the closing notice and the closing, categories and quotas, guest passes; and the
REST routes with every refusal of the contract."""
from datetime import date, datetime

import pytest

from appliance import db, events, hours
from appliance.errors import Conflict, Invalid
from appliance.models import Categorie, Log, Session, State
from appliance.protocol import Reason
from tests import support

PARIS = 'Europe/Paris'
WEEKDAYS = {'lundi': [['09:00', '12:30'], ['14:00', '18:00']], 'mardi': [['09:00', '18:00']],
            'mercredi': [['09:00', '18:00']], 'jeudi': [['09:00', '18:00']], 'vendredi': [['09:00', '18:00']],
            'samedi': [['10:00', '17:00']], 'dimanche': [['09:00', '18:00']]}


@pytest.fixture
def pctx(bound_database, tmp_path):
    """A context in Europe/Paris with only the default category."""
    support.empty_database()
    with db.database.connection_context():
        with db.writing():
            Categorie.delete().execute()
            Categorie.create(nom='Tous publics', par_defaut=True)
    yield support.make_context(tmp_path, TIME_ZONE=PARIS)
    support.empty_database()


@pytest.fixture
def desk(pctx):
    with db.database.connection_context():
        yield pctx.desk


@pytest.fixture
def compte(pctx):
    return support.make_compte('bibliothecaire')


def at(clock, text):
    """Set the fake clock to a naive UTC instant."""
    clock._now = datetime.fromisoformat(text)


def set_hours(desk, compte, **data):
    return desk.set_horaires(data, operateur=compte, ip='127.0.0.1')


def poste(desk, compte, n=1):
    return desk.create_poste({'nom': f'Poste {n}', 'ip_address': f'10.0.0.{10 + n}'}, operateur=compte,
                             ip='127.0.0.1')[0]


def visitor(desk, compte, nom='Martin', **extra):
    return desk.create_visitor({'nom': nom, 'prenom': 'Alice', 'email': f'{nom.lower()}@example.org',
                                'consentement_rgpd': True, **extra}, operateur=compte, ip='127.0.0.1')


def heard(*kinds):
    found = []
    listener = lambda kind, payload: found.append((kind, payload))  # noqa: E731
    events.subscribe(listener, *kinds)
    return found, listener


# -- opening hours: pure logic ----------------------------------------------------------------

def test_daylight_saving_sundays_in_paris_are_local_hours_of_real_length():
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(PARIS)
    schedule = hours.clean_schedule({'semaine': {'dimanche': [['01:00', '04:00'], ['09:00', '18:00']]}})
    # Sunday 29 March 2026: clocks go from 02:00 to 03:00. 01:00 CET = 00:00 UTC; 04:00 CEST = 02:00 UTC.
    march = datetime(2026, 3, 29, 0, 30)
    state = hours.state_at(schedule, zone, march)
    assert (state.ouvert, state.fermeture, state.prochaine_ouverture) == (
        True, datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 7, 0))
    assert hours.day_bounds(march, zone) == (datetime(2026, 3, 28, 23, 0), datetime(2026, 3, 29, 22, 0))
    # Sunday 25 October 2026: 03:00 becomes 02:00 again. 01:00 CEST = 23:00 UTC; 04:00 CET = 03:00 UTC:
    # four real hours between 01:00 and 04:00 local.
    october = datetime(2026, 10, 24, 23, 30)
    state = hours.state_at(schedule, zone, october)
    assert (state.ouvert, state.fermeture) == (True, datetime(2026, 10, 25, 3, 0))
    assert hours.day_bounds(october, zone) == (datetime(2026, 10, 24, 22, 0), datetime(2026, 10, 25, 23, 0))
    assert hours.state_at(schedule, zone, datetime(2026, 10, 25, 16, 59)).fermeture == datetime(2026, 10, 25, 17, 0)
    # A time that does not exist (02:30 on the March night) means the same instant as 03:30.
    gap = hours.clean_schedule({'semaine': {'dimanche': [['02:30', '05:00']]}})
    assert hours.state_at(gap, zone, datetime(2026, 3, 29, 0, 0)).prochaine_ouverture == datetime(2026, 3, 29, 1, 30)


def test_no_hours_means_always_open_and_exceptions_still_close_a_day():
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(PARIS)
    always = hours.clean_schedule({})
    state = hours.state_at(always, zone, datetime(2026, 12, 25, 12))
    assert (state.ouvert, state.fermeture, state.prochaine_ouverture) == (True, None, None)
    christmas = hours.clean_schedule({'exceptions': [{'date': '2026-12-25', 'plages': [], 'motif': 'Noël'}]})
    state = hours.state_at(christmas, zone, datetime(2026, 12, 24, 20))
    assert (state.ouvert, state.fermeture) == (True, datetime(2026, 12, 24, 23, 0))
    state = hours.state_at(christmas, zone, datetime(2026, 12, 25, 12))
    assert (state.ouvert, state.prochaine_ouverture) == (False, datetime(2026, 12, 25, 23, 0))


@pytest.mark.parametrize('semaine, field', [
    ({'lundi': [['09:00', '12:00'], ['11:00', '13:00']]}, 'semaine.lundi'),
    ({'lundi': [['12:00', '09:00']]}, 'semaine.lundi'),
    ({'lundi': [['9h', '12:00']]}, 'semaine.lundi'),
    ({'lundi': [['09:00', '25:00']]}, 'semaine.lundi'),
    ({'lundi': [['09:00']]}, 'semaine.lundi'),
    ({'funday': []}, 'semaine.funday'),
])
def test_bad_ranges_are_named(semaine, field):
    with pytest.raises(hours.BadHours) as caught:
        hours.clean_schedule({'semaine': semaine})
    assert field in caught.value.errors


# -- the desk, injected clock ----------------------------------------------------------------

def test_closed_library_refuses_sessions_and_codes_saying_when_it_reopens(pctx, desk, compte):
    set_hours(desk, compte, semaine=WEEKDAYS)
    p, v = poste(desk, compte), visitor(desk, compte)
    at(pctx.clock, '2026-01-05 07:00:00')       # Monday 08:00 in Paris
    with pytest.raises(Conflict) as caught:
        desk.create_session(v, p, 1800, operateur=compte, ip='127.0.0.1')
    assert caught.value.detail == 'La bibliothèque est fermée. Elle rouvre le 05/01/2026 à 09:00.'
    at(pctx.clock, '2026-01-05 11:20:00')       # 12:20: open
    session = desk.create_session(v, p, 1800, operateur=compte, ip='127.0.0.1')
    at(pctx.clock, '2026-01-05 11:45:00')       # 12:45: the lunch break
    with pytest.raises(Conflict) as caught:
        desk.validate_code(session.code_acces, p, source_ip='10.0.0.11')
    assert 'Elle rouvre le 05/01/2026 à 14:00' in caught.value.detail
    assert caught.value.body == {'valid': False}
    assert desk.horaires_etat() == {'ouvert': False, 'fermeture': None,
                                    'prochaine_ouverture': '2026-01-05T13:00:00+00:00'}


def test_a_session_is_capped_at_closing_notified_once_and_ended_by_the_closing(pctx, desk, compte):
    set_hours(desk, compte, semaine=WEEKDAYS, avertissement_fermeture=60)
    p, v = poste(desk, compte), visitor(desk, compte)
    at(pctx.clock, '2026-01-05 16:58:45')       # 17:58:45 in Paris, 75 s before closing
    session = desk.create_session(v, p, 3600, operateur=compte, ip='127.0.0.1')
    session = desk.validate_code(session.code_acces, p, source_ip='10.0.0.11')
    assert session.limite_fermeture and session.fin_prevue == datetime(2026, 1, 5, 17, 0)
    assert desk.session_json(session)['temps_restant'] == 75
    assert desk.closing_time() == datetime(2026, 1, 5, 17, 0)
    # Adding time cannot go past the closing either.
    desk.add_time(session, 600, operateur=compte, ip='127.0.0.1')
    assert desk.session_json(session)['temps_restant'] == 75
    found, listener = heard(events.CLOSING_DUE, events.SESSION_ENDED)
    try:
        assert desk.announce_closing(datetime(2026, 1, 5, 17, 0)) is True
        assert desk.announce_closing(datetime(2026, 1, 5, 17, 0)) is False    # once, whoever asks again
        pctx.clock.advance(75)
        ended = desk.process_due([session.id])
    finally:
        events.unsubscribe(listener)
    assert ended[0].raison_fin == Reason.LIBRARY_CLOSING and ended[0].statut == 'terminee'
    assert [(k, p.get('message'), p.get('raison')) for k, p in found] == [
        (events.CLOSING_DUE, 'La bibliothèque ferme dans 1 minute.', None),
        (events.SESSION_ENDED, None, 'fermeture_bibliotheque')]
    assert support.log_actions(action='annonce_fermeture') == ['annonce_fermeture']


def test_changing_the_hours_caps_running_sessions_and_close_library_ends_the_others(pctx, desk, compte):
    p, v = poste(desk, compte), visitor(desk, compte)
    at(pctx.clock, '2026-01-05 15:00:00')       # always open: no cap
    session = desk.validate_code(desk.create_session(v, p, 14400, operateur=compte, ip='x').code_acces, p,
                                 source_ip='10.0.0.11')
    assert not session.limite_fermeture
    set_hours(desk, compte, semaine=WEEKDAYS)
    session = Session.get_by_id(session.id)
    assert session.limite_fermeture and session.fin_prevue == datetime(2026, 1, 5, 17, 0)
    # A session the cap missed (here: pushed past it by hand) is ended by the closing itself.
    Session.update(fin_prevue=datetime(2026, 1, 5, 19, 0)).where(Session.id == session.id).execute()
    at(pctx.clock, '2026-01-05 17:00:00')
    ended = desk.close_library(datetime(2026, 1, 5, 17, 0))
    assert [(s.id, s.raison_fin) for s in ended] == [(session.id, 'fermeture_bibliotheque')]


def test_closing_on_a_daylight_saving_sunday_uses_real_seconds(pctx, desk, compte):
    set_hours(desk, compte, semaine={'dimanche': [['09:00', '18:00']]})
    p, v = poste(desk, compte), visitor(desk, compte)
    at(pctx.clock, '2026-10-25 15:00:00')       # 16:00 CET, after the change back
    s = desk.validate_code(desk.create_session(v, p, 14400, operateur=compte, ip='x').code_acces, p,
                           source_ip='10.0.0.11')
    assert s.fin_prevue == datetime(2026, 10, 25, 17, 0) and desk.session_json(s)['temps_restant'] == 7200
    at(pctx.clock, '2026-03-29 15:00:00')       # 17:00 CEST, the spring Sunday
    assert desk.closing_time() == datetime(2026, 3, 29, 16, 0)


def test_quotas_refuse_with_what_is_left_and_force_is_audited(pctx, desk, compte):
    categorie = desk.save_categorie(None, {'nom': 'Adultes', 'quota_jour': 3600, 'quota_semaine': 3 * 3600,
                                           'duree_max_session': 2700}, operateur=compte, ip='x')
    p, v = poste(desk, compte), visitor(desk, compte, categorie=categorie.id)
    at(pctx.clock, '2026-01-05 09:00:00')
    s = desk.validate_code(desk.create_session(v, p, 1200, operateur=compte, ip='x').code_acces, p,
                           source_ip='10.0.0.11')
    pctx.clock.advance(1200)
    desk.process_due([s.id])
    quota = desk.quota_remaining(v)
    assert quota['categorie'] == categorie.id
    assert quota['jour'] == {'utilise': 1200, 'restant': 2400, 'quota': 3600}
    assert quota['semaine'] == {'utilise': 1200, 'restant': 9600, 'quota': 10800}
    with pytest.raises(Conflict) as caught:
        desk.create_session(v, p, 2500, operateur=compte, ip='x')
    assert caught.value.detail.startswith('Quota dépassé : il reste 40 min aujourd’hui, 2 h 40 cette semaine')
    assert caught.value.body['restant'] == 2400
    forced = desk.create_session(v, p, 2500, operateur=compte, ip='x', force=True)
    entry = Log.select().where(Log.action == 'depassement_quota').get()
    assert entry.operateur == 'bibliothecaire'
    assert entry.metadata_dict == {'demande': 2500, 'restant': 2400, 'depassement': 100,
                                   'utilisateur': v.id, 'par': 'bibliothecaire'}
    # Adding time checks the same way: 2500 s promised already leaves nothing today.
    desk.validate_code(forced.code_acces, p, source_ip='10.0.0.11')
    with pytest.raises(Conflict):
        desk.add_time(forced, 300, operateur=compte, ip='x')
    desk.add_time(forced, 300, operateur=compte, ip='x', force=True)
    # The next local day starts afresh (Paris midnight = 23:00 UTC in winter).
    at(pctx.clock, '2026-01-05 23:00:01')
    desk.expire_due()
    assert desk.quota_remaining(v)['jour']['utilise'] == 0


def test_quota_counts_only_the_local_day_across_midnight(pctx, desk, compte):
    categorie = desk.save_categorie(None, {'nom': 'Jeunes', 'quota_jour': 7200}, operateur=compte, ip='x')
    p, v = poste(desk, compte), visitor(desk, compte, categorie=categorie.id)
    at(pctx.clock, '2026-03-28 22:30:00')       # 23:30 Saturday in Paris, the spring night
    s = desk.validate_code(desk.create_session(v, p, 3600, operateur=compte, ip='x').code_acces, p,
                           source_ip='10.0.0.11')
    pctx.clock.advance(3600)
    desk.process_due([s.id])
    assert desk.quota_remaining(v)['jour'] == {'utilise': 1800, 'restant': 5400, 'quota': 7200}


def test_age_range_refuses_unless_forced(pctx, desk, compte):
    desk.save_categorie(None, {'nom': 'Enfants', 'age_max': 12, 'par_defaut': True}, operateur=compte, ip='x')
    p = poste(desk, compte)
    at(pctx.clock, '2026-01-05 10:00:00')
    v = visitor(desk, compte, date_naissance=date(1990, 5, 1))
    with pytest.raises(Conflict) as caught:
        desk.create_session(v, p, 1800, operateur=compte, ip='x')
    assert 'réservée aux visiteurs de 0 à 12 ans (ce visiteur a 35 ans)' in caught.value.detail
    desk.create_session(v, p, 1800, operateur=compte, ip='x', force=True)


def test_one_default_category_always(pctx, desk, compte):
    default = Categorie.get(Categorie.par_defaut == True)  # noqa: E712
    with pytest.raises(Conflict):
        desk.save_categorie(default, {'par_defaut': False}, operateur=compte, ip='x')
    with pytest.raises(Conflict):
        desk.delete_categorie(default, operateur=compte, ip='x')
    other = desk.save_categorie(None, {'nom': 'Autre', 'par_defaut': True}, operateur=compte, ip='x')
    assert [c['nom'] for c in desk.categories() if c['par_defaut']] == ['Autre']
    v = visitor(desk, compte, categorie=default.id)
    desk.delete_categorie(Categorie.get_by_id(default.id), operateur=compte, ip='x')
    assert desk.quota_remaining(v.__class__.get_by_id(v.id))['categorie'] == other.id
    with pytest.raises(Invalid):
        desk.save_categorie(None, {'nom': 'Bornes', 'age_min': 18, 'age_max': 10}, operateur=compte, ip='x')


def test_guest_passes_obey_hours_not_quotas(pctx, desk, compte):
    desk.save_categorie(Categorie.get(Categorie.par_defaut == True), {'quota_jour': 0},  # noqa: E712
                        operateur=compte, ip='x')
    set_hours(desk, compte, semaine=WEEKDAYS)
    p = poste(desk, compte)
    at(pctx.clock, '2026-01-05 10:00:00')
    guests = desk.create_guest_sessions(3, 1800, None, operateur=compte, ip='x')
    assert len({g.code_acces for g in guests}) == 3 and all(g.utilisateur_id is None and g.invite for g in guests)
    shown = desk.guest_json(guests)[0]
    assert (shown['utilisateur'], shown['utilisateur_nom'], shown['invite']) == (None, None, True)
    started = desk.validate_code(guests[0].code_acces, p, source_ip='10.0.0.11')
    assert started.statut == 'active'
    at(pctx.clock, '2026-01-05 20:00:00')
    with pytest.raises(Conflict):
        desk.create_guest_sessions(1, 1800, None, operateur=compte, ip='x')


# -- REST ---------------------------------------------------------------------------------------

@pytest.fixture
def client(pctx):
    return support.Client(support.make_app(pctx))


@pytest.fixture
def tokens(pctx, client):
    support.make_compte('admin', role='admin')
    support.make_compte('agent', role='staff')
    return client.login('admin'), client.login('agent')


def test_hours_routes(pctx, client, tokens):
    admin, staff = tokens
    assert client.get('/api/horaires/').status == 401
    body = client.get('/api/horaires/', token=staff).json
    assert body['semaine']['lundi'] == [] and body['exceptions'] == [] and body['avertissement_fermeture'] == 900
    assert client.get('/api/horaires/etat/', token=staff).json == {
        'ouvert': True, 'fermeture': None, 'prochaine_ouverture': None}
    new = {'semaine': WEEKDAYS, 'avertissement_fermeture': 600,
           'exceptions': [{'date': '2026-12-25', 'plages': [], 'motif': 'Noël'},
                          {'date': '2026-12-24', 'plages': [['09:00', '12:00:30']], 'motif': 'Veille de Noël'}]}
    assert client.put('/api/horaires/', new, token=staff).status == 403
    response = client.put('/api/horaires/', new, token=admin)
    assert response.status == 200, response
    assert response.json['exceptions'][0] == {'date': '2026-12-24', 'plages': [['09:00', '12:00:30']],
                                              'motif': 'Veille de Noël'}
    assert client.get('/api/horaires/', token=staff).json == response.json
    assert support.log_actions(action='modification_horaires') == ['modification_horaires']
    at(pctx.clock, '2026-01-05 12:00:00')
    staff = client.login('agent')
    assert client.get('/api/horaires/etat/', token=staff).json == {
        'ouvert': False, 'fermeture': None, 'prochaine_ouverture': '2026-01-05T13:00:00+00:00'}
    at(pctx.clock, '2026-01-05 13:30:00')
    staff = client.login('agent')
    assert client.get('/api/horaires/etat/', token=staff).json == {
        'ouvert': True, 'fermeture': '2026-01-05T17:00:00+00:00',
        'prochaine_ouverture': '2026-01-06T08:00:00+00:00'}


@pytest.mark.parametrize('body, field', [
    ({'semaine': {'lundi': [['09:00', '12:00'], ['11:00', '14:00']]}}, 'semaine'),
    ({'semaine': []}, 'semaine'),
    ({'exceptions': [{'date': '2026-02-30', 'plages': []}]}, 'exceptions'),
    ({'exceptions': [{'date': '2026-02-03', 'plages': [], 'extra': 1}]}, 'exceptions'),
    ({'avertissement_fermeture': -1}, 'avertissement_fermeture'),
    ({'semaine': {'lundi': [['09:00\x00', '12:00']]}}, 'semaine'),
])
def test_bad_hours_are_400_per_field(client, tokens, body, field):
    response = client.put('/api/horaires/', body, token=tokens[0])
    assert response.status == 400, response
    assert list(response.json['errors']) == [field]


def test_categories_and_quota_routes(pctx, client, tokens):
    admin, staff = tokens
    listed = client.get('/api/categories/', token=staff).json
    assert (listed['count'], listed['next'], listed['previous']) == (1, None, None)
    listed = listed['results']
    assert [(c['nom'], c['par_defaut']) for c in listed] == [('Tous publics', True)]
    new = {'nom': 'Adultes', 'quota_jour': 3600, 'quota_semaine': None, 'duree_max_session': 1800,
           'age_min': 18, 'age_max': None}
    assert client.post('/api/categories/', new, token=staff).status == 403
    created = client.post('/api/categories/', new, token=admin)
    assert created.status == 201 and created.json == {**new, 'id': created.json['id'], 'par_defaut': False}
    assert client.post('/api/categories/', new, token=admin).status == 409          # name taken
    assert client.post('/api/categories/', {'nom': 'X', 'quota_jour': -5}, token=admin).json['errors'] == {
        'quota_jour': ['Doit être supérieur ou égal à 0.']}
    cid = created.json['id']
    assert client.patch(f'/api/categories/{cid}/', {'quota_jour': 7200}, token=admin).json['quota_jour'] == 7200
    assert client.get('/api/categories/999999/', token=staff).status == 404
    visitor = client.make_visitor(staff, categorie=cid, date_naissance='1990-01-01')
    assert visitor['categorie'] == cid
    assert client.post('/api/utilisateurs/', {'nom': 'A', 'prenom': 'B', 'email': 'b@example.org',
                                              'consentement_rgpd': True, 'categorie': 999999},
                       token=staff).json['errors'] == {'categorie': ['Catégorie « 999999 » introuvable.']}
    quota = client.get(f'/api/utilisateurs/{visitor["id"]}/quota/', token=staff)
    assert quota.status == 200
    assert (quota.json['categorie'], quota.json['jour'], quota.json['semaine']) == (
        cid, {'utilise': 0, 'restant': 7200, 'quota': 7200}, {'utilise': 0, 'restant': None, 'quota': None})
    assert client.get('/api/utilisateurs/999999/quota/', token=staff).status == 404
    # A session longer than the category's longest session: 409 naming what is left, then forced.
    refused = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 3600}, token=staff)
    assert refused.status == 409
    assert refused.json['detail'].startswith('Quota dépassé : il reste 2 h 00 aujourd’hui, '
                                             'une session dure au plus 30 min.')
    forced = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 3600, 'force': True},
                         token=staff)
    assert forced.status == 201 and forced.json['limite_fermeture'] is False and forced.json['invite'] is False
    assert client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 600, 'force': 'yes'},
                       token=staff).status == 400
    assert client.delete(f'/api/categories/{cid}/', token=staff).status == 403
    assert client.delete(f'/api/categories/{cid}/', token=admin).status == 204
    assert client.get(f'/api/utilisateurs/{visitor["id"]}/', token=staff).json['categorie'] is None
    default = listed[0]['id']
    assert client.delete(f'/api/categories/{default}/', token=admin).status == 409
    assert support.log_actions(action='modification_categorie') == ['modification_categorie'] * 3
    assert support.log_actions(action='depassement_quota') == ['depassement_quota']


def test_guest_route(pctx, client, tokens):
    admin, staff = tokens
    p = client.make_poste(admin)
    response = client.post('/api/sessions/invites/', {'nombre': 3, 'duree_initiale': 1800}, token=staff)
    assert response.status == 201, response
    results = response.json['results']
    assert len(results) == 3 and {r['utilisateur'] for r in results} == {None}
    assert all(r['invite'] and r['statut'] == 'en_attente' and len(r['code_acces']) == 6 for r in results)
    started = client.kiosk_validate(p['kiosk_token'], results[0]['code_acces'])
    assert started.status == 200 and started.json['session']['invite'] is True
    for bad in ({'nombre': 0, 'duree_initiale': 1800}, {'nombre': 51, 'duree_initiale': 1800},
                {'nombre': 2}, {'nombre': 2, 'duree_initiale': 10}, {'nombre': 'deux', 'duree_initiale': 600},
                {'nombre': 2, 'duree_initiale': 600, 'poste': 999999}):
        assert client.post('/api/sessions/invites/', bad, token=staff).status == 400, bad
    assert client.post('/api/sessions/invites/', {'nombre': 1, 'duree_initiale': 600}).status == 401
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'generation_code_invite').get()
    assert entry.metadata_dict['codes'] == [r['code_acces'] for r in results]
    listed = client.get('/api/sessions/', token=staff).json['results']
    assert {s['utilisateur_nom'] for s in listed} == {None}


def test_validate_code_answer_says_when_capped(pctx, client, tokens):
    admin, staff = tokens
    p = client.make_poste(admin)
    client.put('/api/horaires/', {'semaine': WEEKDAYS}, token=admin)
    at(pctx.clock, '2026-01-05 16:30:00')
    staff = client.login('agent')
    visitor = client.make_visitor(staff)
    session = client.make_session(staff, visitor['id'], p['id'], 3600)
    answer = client.kiosk_validate(p['kiosk_token'], session['code_acces']).json
    assert (answer['temps_restant'], answer['limite_fermeture'], answer['session']['limite_fermeture']) == (
        1800, True, True)
    added = client.post(f'/api/sessions/{session["id"]}/add-time/', {'minutes': 10}, token=staff).json
    assert (added['temps_restant'], added['limite_fermeture']) == (1800, True)
    at(pctx.clock, '2026-01-05 17:30:00')
    staff = client.login('agent')
    closed = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 600}, token=staff)
    assert closed.status == 409 and closed.json['detail'].startswith('La bibliothèque est fermée.')
    with db.database.connection_context():
        State.delete().execute()   # no hours again: always open
    again = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 600}, token=staff)
    assert again.status == 201      # the first session ended at the closing, 17:00
    first = client.get(f'/api/sessions/{session["id"]}/', token=staff).json
    assert (first['statut'], first['raison_fin'], first['fin_session']) == (
        'terminee', 'fermeture_bibliotheque', '2026-01-05T17:00:00+00:00')


def test_statistics_per_category(pctx, desk, compte):
    adults = desk.save_categorie(None, {'nom': 'Adultes'}, operateur=compte, ip='x')
    p1, p2, p3 = poste(desk, compte, 1), poste(desk, compte, 2), poste(desk, compte, 3)
    at(pctx.clock, '2026-01-05 10:00:00')
    for p, who, minutes in ((p1, visitor(desk, compte, 'Un', categorie=adults.id), 20),
                            (p2, visitor(desk, compte, 'Deux'), 5), (p3, None, 10)):
        code = (desk.create_session(who, p, minutes * 60, operateur=compte, ip='x') if who
                else desk.create_guest_sessions(1, minutes * 60, p, operateur=compte, ip='x')[0]).code_acces
        desk.validate_code(code, p, source_ip='10.0.0.1')
    pctx.clock.advance(3600)
    desk.expire_due()
    day = date(2026, 1, 5)
    lines = desk.statistics(day, day)['par_categorie']
    default = Categorie.get(Categorie.par_defaut == True).id  # noqa: E712
    assert lines == [{'categorie': adults.id, 'nom': 'Adultes', 'sessions': 1, 'duree': 1200},
                     {'categorie': default, 'nom': 'Tous publics', 'sessions': 1, 'duree': 300},
                     {'categorie': None, 'nom': 'Invités', 'sessions': 1, 'duree': 600}]


def test_a_room_closes_at_once_with_an_entry_and_a_fact_per_session(pctx, desk, compte):
    set_hours(desk, compte, semaine=WEEKDAYS)
    at(pctx.clock, '2026-01-05 16:00:00')
    started = []
    for n in range(1, 4):
        p = poste(desk, compte, n)
        s = desk.create_session(visitor(desk, compte, f'V{n}'), p, 7200, operateur=compte, ip='x')
        started.append(desk.validate_code(s.code_acces, p, source_ip='10.0.0.1'))
    found, listener = heard(events.SESSION_ENDED, events.LOG_WRITTEN)
    try:
        at(pctx.clock, '2026-01-05 17:00:00.200000')
        ended = desk.process_due([s.id for s in started])
    finally:
        events.unsubscribe(listener)
    assert {(s.statut, s.raison_fin, s.fin_session) for s in ended} == {
        ('terminee', 'fermeture_bibliotheque', datetime(2026, 1, 5, 17, 0))}
    assert sorted(p['session_id'] for k, p in found if k == events.SESSION_ENDED) == sorted(s.id for s in started)
    logs = [p['log'] for k, p in found if k == events.LOG_WRITTEN]
    assert sorted(entry['session'] for entry in logs) == sorted(s.id for s in started)
    assert {(entry['action'], entry['metadata']['raison']) for entry in logs} == {('fermeture', 'fermeture_bibliotheque')}
    assert {p['statut'] for p in desk.room_json()} == {'disponible'}
    assert [s['raison_fin'] for s in (desk.session_json(Session.get_by_id(s.id)) for s in started)] == \
        ['fermeture_bibliotheque'] * 3


def test_time_zone_setting(tmp_path):
    from appliance.config import ConfigError
    assert support.make_config(tmp_path, TIME_ZONE='Europe/Paris').time_zone == 'Europe/Paris'
    with pytest.raises(ConfigError) as caught:
        support.make_config(tmp_path, TIME_ZONE='Mars/Olympus_Mons')
    assert str(caught.value).startswith('TIME_ZONE:')
    assert support.make_config(tmp_path).time_zone == hours.system_zone_name()


def test_a_time_request_is_granted_at_once_only_within_the_quota_and_before_the_closing(pctx, desk, compte):
    """The kiosk's request for more time (live control) obeys the library's policy: granted at once
    when the category allows it and the library stays open past the new end, else it waits."""
    set_hours(desk, compte, semaine=WEEKDAYS)
    categorie = desk.save_categorie(None, {'nom': 'Adultes', 'quota_jour': 3600}, operateur=compte, ip='x')
    p, v = poste(desk, compte), visitor(desk, compte, categorie=categorie.id)
    at(pctx.clock, '2026-01-06 09:00:00')       # Tuesday 10:00 in Paris, open until 18:00
    session = desk.create_session(v, p, 1800, operateur=compte, ip='127.0.0.1')
    session = desk.validate_code(session.code_acces, p, source_ip='10.0.0.11')
    now = pctx.clock.now()
    assert desk.time_request_auto_refusal(session, 1200, now) is None          # 50 min of 60
    assert desk.time_request_auto_refusal(session, 2400, now) == 'quota'       # 70 min of 60
    granted = desk.request_time(p, 1200, ip='10.0.0.11')
    assert granted.statut == 'acceptee'
    waiting = desk.request_time(p, 900, ip='10.0.0.11')
    assert waiting.statut == 'en_attente'                                      # over the day's quota
    desk.refuse_demande(waiting, 'Quota atteint.', operateur=compte, ip=None)

    # Near the closing: a request that would end after 18:00 waits for staff, whatever the quota.
    unlimited = visitor(desk, compte, nom='Durand')
    other = poste(desk, compte, n=2)
    at(pctx.clock, '2026-01-06 16:30:00')       # 17:30 in Paris
    late = desk.create_session(unlimited, other, 900, operateur=compte, ip='127.0.0.1')
    late = desk.validate_code(late.code_acces, other, source_ip='10.0.0.12')
    assert desk.time_request_auto_refusal(late, 300, pctx.clock.now()) is None     # ends 17:50
    assert desk.time_request_auto_refusal(late, 1200, pctx.clock.now()) == 'fermeture'
