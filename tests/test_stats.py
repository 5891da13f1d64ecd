"""GET /api/stats/: usage aggregated per local day, weekday × hour and poste, on both engines.

The clock starts on Monday 2026-01-05 at 09:00 UTC and moves only when told.
"""
import json
import time

import pytest


@pytest.fixture
def local_zone(monkeypatch):
    """Run a test in the box's time zone `name` (the statistics bucket in local time)."""
    def use(name):
        monkeypatch.setenv('TZ', name)
        time.tzset()
    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def room(client, admin_token):
    return [client.make_poste(admin_token, 'Poste A', '10.1.0.1'),
            client.make_poste(admin_token, 'Poste B', '10.1.0.2')]


def play(client, ctx, poste, visitor, minutes, end=True):
    """A visitor uses `poste` for `minutes` from now; the clock moves on by that much."""
    session = client.make_session(client.login('admin'), visitor['id'], poste['id'], duree=4 * 3600)
    assert client.kiosk_validate(poste['kiosk_token'], session['code_acces']).status == 200
    ctx.clock.advance(minutes * 60)
    if end:  # a fresh login: access tokens last 15 minutes, and the clock has moved
        response = client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=client.login('admin'))
        assert response.status == 200
    return session


def stats(client, **query):
    response = client.get('/api/stats/', token=client.login('admin'), query=query)
    assert response.status == 200, response
    return response.json


def test_defaults_to_the_last_30_days_and_empty(client, admin):
    body = stats(client)
    assert (body['date_min'], body['date_max']) == ('2025-12-07', '2026-01-05')
    assert len(body['par_jour']) == 30
    assert body['totaux'] == {'sessions': 0, 'visiteurs': 0, 'duree_totale': 0, 'duree_moyenne': None,
                              'codes_non_utilises': 0}
    assert len(body['occupation']) == 7 and all(len(day) == 24 for day in body['occupation'])
    assert body['par_poste'] == []


def test_days_hours_postes_and_average(client, admin_token, ctx, room):
    alice = client.make_visitor(admin_token, 'Martin', 'Alice')
    bruno = client.make_visitor(admin_token, 'Petit', 'Bruno')
    play(client, ctx, room[0], alice, 90)          # Monday 09:00 → 10:30
    play(client, ctx, room[1], bruno, 30)          # Monday 10:30 → 11:00
    play(client, ctx, room[0], alice, 15, end=False)  # 11:00, still running at 11:15
    client.make_session(client.login('admin'), bruno['id'], room[1]['id'])  # a code not used (yet)

    body = stats(client, date_min='2026-01-05', date_max='2026-01-06')
    assert body['par_jour'] == [{'date': '2026-01-05', 'sessions': 3, 'duree': (90 + 30 + 15) * 60},
                                {'date': '2026-01-06', 'sessions': 0, 'duree': 0}]
    assert body['totaux'] == {'sessions': 3, 'visiteurs': 2, 'duree_totale': 135 * 60,
                              'duree_moyenne': 60 * 60,  # the ended ones: (90 + 30) / 2 minutes
                              'codes_non_utilises': 0}
    monday = body['occupation'][0]
    # 09:00 one poste all hour; 10:00 half an hour of A and half of B; 11:00 a quarter (so far).
    assert monday[9] == 1.0 and monday[10] == 1.0 and monday[11] == 0.25
    assert sum(sum(day) for day in body['occupation']) == 2.25
    assert body['postes'] == 2
    assert body['par_poste'] == [{'poste': room[0]['id'], 'nom': 'Poste A', 'sessions': 2, 'duree': 105 * 60},
                                 {'poste': room[1]['id'], 'nom': 'Poste B', 'sessions': 1, 'duree': 30 * 60}]


def test_no_personal_data(client, admin_token, ctx, room):
    play(client, ctx, room[0], client.make_visitor(admin_token, 'Zébulon', 'Yvette'), 20)
    text = json.dumps(stats(client))
    assert 'Zébulon' not in text and 'Yvette' not in text and '@' not in text


def test_sessions_are_clipped_to_the_period(client, admin_token, ctx, room):
    visitor = client.make_visitor(admin_token)
    ctx.clock.advance(14 * 3600 + 30 * 60)                      # Monday 23:30 UTC
    play(client, ctx, room[0], visitor, 60)                     # → Tuesday 00:30
    monday = stats(client, date_min='2026-01-05', date_max='2026-01-05')
    assert monday['par_jour'] == [{'date': '2026-01-05', 'sessions': 1, 'duree': 30 * 60}]
    assert monday['par_poste'][0]['duree'] == 30 * 60
    tuesday = stats(client, date_min='2026-01-06', date_max='2026-01-06')
    assert tuesday['par_jour'] == [{'date': '2026-01-06', 'sessions': 0, 'duree': 30 * 60}]
    assert tuesday['occupation'][1][0] == 0.5


def test_buckets_follow_the_local_time_zone(client, admin_token, ctx, room, local_zone):
    local_zone('Europe/Paris')                                  # UTC+1 in January
    visitor = client.make_visitor(admin_token)
    ctx.clock.advance(14 * 3600 + 30 * 60)                      # 23:30 UTC = Tuesday 00:30 in Paris
    play(client, ctx, room[0], visitor, 60)
    body = stats(client, date_min='2026-01-05', date_max='2026-01-06')
    assert body['par_jour'] == [{'date': '2026-01-05', 'sessions': 0, 'duree': 0},
                                {'date': '2026-01-06', 'sessions': 1, 'duree': 3600}]
    tuesday = body['occupation'][1]
    assert tuesday[0] == 0.5 and tuesday[1] == 0.5 and sum(tuesday) == 1.0
    assert sum(body['occupation'][0]) == 0


def test_unused_codes_are_counted(client, admin_token, ctx, room):
    client.make_session(admin_token, client.make_visitor(admin_token)['id'], room[0]['id'])
    ctx.clock.advance(2 * 3600)
    ctx.desk.expire_due()
    assert stats(client)['totaux']['codes_non_utilises'] == 1


@pytest.mark.parametrize('query, field', [
    ({'date_min': 'hier'}, 'date_min'),
    ({'date_max': '2026-02-30'}, 'date_max'),
    ({'date_min': '2026-01-06', 'date_max': '2026-01-05'}, 'date_min'),
    ({'date_min': '2024-01-01', 'date_max': '2026-01-05'}, 'date_min'),
])
def test_bad_periods_are_400(client, staff_token, query, field):
    response = client.get('/api/stats/', token=staff_token, query=query)
    assert response.status == 400
    assert field in response.json['errors']


def test_staff_only(client):
    assert client.get('/api/stats/').status == 401
