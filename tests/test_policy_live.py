"""The library's policy against a real server, with real short durations: a session capped at a
closing a few seconds away, the closing notice to every connected kiosk, the end on the second
with and without a kiosk; refusals while closed; guest codes at a kiosk; quotas and `force`."""
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests import support
from tests.live import kiosk, nothing_within, recv_action

DAYS = ('lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche')
CLOSES_IN, NOTICE = 7, 4


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def wait_clear_of_midnight(margin=20):
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    if (midnight - now).total_seconds() < margin:
        time.sleep((midnight - now).total_seconds() + 1)


@pytest.mark.slow
def test_closing_caps_warns_every_kiosk_and_ends_sessions_on_the_second(live_server):
    server = live_server(TIME_ZONE='UTC')
    watched = server.make_poste('Poste A', '10.0.0.31')
    alone = server.make_poste('Poste B', '10.0.0.32')
    idle = server.make_poste('Poste C', '10.0.0.33')
    first = server.make_session(watched['id'])
    second = server.make_session(alone['id'])
    wait_clear_of_midnight()
    closing = (utcnow() + timedelta(seconds=CLOSES_IN + 1)).replace(microsecond=0)
    today = DAYS[closing.weekday()]
    hours = server.api('PUT', '/api/horaires/', {'semaine': {today: [['00:00', f'{closing:%H:%M:%S}']]},
                                                 'avertissement_fermeture': NOTICE}, expect=200)
    assert hours['semaine'][today] == [['00:00', f'{closing:%H:%M:%S}' if closing.second else f'{closing:%H:%M}']]
    state = server.api('GET', '/api/horaires/etat/', expect=200)
    assert state['ouvert'] is True and state['fermeture'] == closing.isoformat() + '+00:00'

    ws, _ = kiosk(server, watched)
    idle_ws, _ = kiosk(server, idle)
    ws.send(json.dumps({'type': 'validate_code', 'code': first['code_acces']}))
    started = recv_action(ws, 'session_started')
    left = (closing - utcnow()).total_seconds()
    assert abs(started['temps_restant'] - left) <= 1.5 and started['session']['limite_fermeture'] is True
    by_staff = server.api('POST', '/api/sessions/validate-code/',
                          {'code': second['code_acces'], 'poste': alone['id']}, expect=200)
    assert by_staff['limite_fermeture'] is True and by_staff['temps_restant'] <= CLOSES_IN + 1

    # The notice, NOTICE seconds before the closing, to the kiosk with a session and the idle one.
    for socket in (ws, idle_ws):
        notice = recv_action(socket, 'closing', timeout=CLOSES_IN + 3)
        heard = utcnow()
        assert abs((closing - heard).total_seconds() - NOTICE) <= 1, heard
        assert notice['fermeture'] == closing.isoformat() + '+00:00'
        assert notice['message'] == f'La bibliothèque ferme dans {NOTICE} secondes.'
        assert notice['temps_restant'] in (NOTICE, NOTICE - 1, NOTICE + 1)
    closed = recv_action(ws, 'close_session', timeout=NOTICE + 3)
    assert closed['raison'] == 'fermeture_bibliotheque'
    assert abs((utcnow() - closing).total_seconds()) <= 1

    # Without a kiosk, on time too.
    time.sleep(0.3)
    ended = server.api('GET', f'/api/sessions/{second["id"]}/')
    assert (ended['statut'], ended['raison_fin']) == ('terminee', 'fermeture_bibliotheque')
    assert ended['fin_session'] == closing.isoformat() + '+00:00'
    actions = [e['action'] for e in server.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('annonce_fermeture') == 1 and 'modification_horaires' in actions

    # Closed now: no session created, no code validated, with when it reopens.
    third = server.api('POST', '/api/utilisateurs/', {'nom': 'Trois', 'prenom': 'V', 'telephone': '0600000003',
                                                      'consentement_rgpd': True, 'doublon_confirme': True},
                       expect=201)
    status, refused = server.request('POST', '/api/sessions/', {'utilisateur': third['id'], 'duree_initiale': 600},
                                     token=server.admin_token())
    assert status == 409 and refused['detail'].startswith('La bibliothèque est fermée. Elle rouvre le ')
    ws.close()
    idle_ws.close()


def test_guest_codes_at_a_kiosk_and_quotas_with_force(live):
    poste = live.make_poste('Poste G', '10.0.0.41')
    guests = live.api('POST', '/api/sessions/invites/', {'nombre': 2, 'duree_initiale': 900}, expect=201)['results']
    ws, _ = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': guests[1]['code_acces'].lower()}))
    started = recv_action(ws, 'session_started')
    assert started['temps_restant'] == 900 and started['session']['invite'] is True
    assert started['session']['utilisateur'] is None
    ws.close()

    categorie = live.api('POST', '/api/categories/', {'nom': 'Courte', 'quota_jour': 1200}, expect=201)
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Quota', 'prenom': 'Q', 'telephone': '0600000009',
                                                      'consentement_rgpd': True, 'categorie': categorie['id']},
                       expect=201)
    assert live.api('GET', f'/api/utilisateurs/{visitor["id"]}/quota/', expect=200)['jour'] == {
        'utilise': 0, 'restant': 1200, 'quota': 1200}
    status, refused = live.request('POST', '/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 1800},
                                   token=live.admin_token())
    assert status == 409 and refused['detail'].startswith('Quota dépassé : il reste 20 min aujourd’hui')
    forced = live.api('POST', '/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 1800,
                                                 'force': True}, expect=201)
    assert forced['duree_initiale'] == 1800
    entry = live.api('GET', '/api/logs/?action=depassement_quota')['results'][0]
    assert entry['operateur'] == 'admin' and entry['metadata']['depassement'] == 600


@pytest.mark.slow
@pytest.mark.skipif(support.postgres_url() is None, reason='several processes need PostgreSQL (DATABASE_URL)')
def test_three_processes_announce_once_and_end_once(live_server):
    a = live_server(TIME_ZONE='UTC')
    b = live_server(share=a, TIME_ZONE='UTC')
    c = live_server(share=a, TIME_ZONE='UTC')
    on_b = a.make_poste('Poste B', '10.0.0.61')
    on_c = a.make_poste('Poste C', '10.0.0.62')
    session = a.make_session(on_b['id'])
    wait_clear_of_midnight()
    closing = (utcnow() + timedelta(seconds=CLOSES_IN + 1)).replace(microsecond=0)
    a.api('PUT', '/api/horaires/', {'semaine': {DAYS[closing.weekday()]: [['00:00', f'{closing:%H:%M:%S}']]},
                                    'avertissement_fermeture': NOTICE}, expect=200)
    ws_b, _ = kiosk(b, on_b)
    ws_c, _ = kiosk(c, on_c)
    a.start_session(session, on_b)
    recv_action(ws_b, 'session_started')
    for socket in (ws_b, ws_c):     # each kiosk, whichever process it is connected to, hears it once
        notice = recv_action(socket, 'closing', timeout=CLOSES_IN + 3)
        assert abs((closing - utcnow()).total_seconds() - NOTICE) <= 1
        assert notice['message'] == f'La bibliothèque ferme dans {NOTICE} secondes.'
    assert nothing_within(ws_c, 1.0)
    closed = recv_action(ws_b, 'close_session', timeout=NOTICE + 3)
    assert closed['raison'] == 'fermeture_bibliotheque' and abs((utcnow() - closing).total_seconds()) <= 1
    time.sleep(0.5)
    actions = [e['action'] for e in c.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('annonce_fermeture') == 1
    assert [e['action'] for e in c.api('GET', f'/api/logs/?session={session["id"]}')['results']].count('fermeture') == 1


def test_a_kiosk_that_comes_after_the_notice_hears_it_too(live_server):
    server = live_server(TIME_ZONE='UTC')
    poste = server.make_poste('Poste T', '10.0.0.71')
    session = server.make_session(poste['id'])
    wait_clear_of_midnight()
    closing = (utcnow() + timedelta(seconds=30)).replace(microsecond=0)
    server.api('PUT', '/api/horaires/', {'semaine': {DAYS[closing.weekday()]: [['00:00', f'{closing:%H:%M:%S}']]},
                                         'avertissement_fermeture': 600}, expect=200)   # announced at once
    time.sleep(0.5)
    ws, _ = kiosk(server, poste)
    notice = recv_action(ws, 'closing', timeout=2)        # connected after the notice: told on arrival
    assert notice['fermeture'] == closing.isoformat() + '+00:00' and 25 <= notice['temps_restant'] <= 30
    assert notice['message'] in ('La bibliothèque ferme dans 29 secondes.', 'La bibliothèque ferme dans 30 secondes.',
                                 'La bibliothèque ferme dans 28 secondes.')
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    started = recv_action(ws, 'session_started')
    assert started['temps_restant'] <= 30 and started['session']['limite_fermeture'] is True
    again = recv_action(ws, 'closing', timeout=2)         # and again with its session's time
    assert again['temps_restant'] <= started['temps_restant']
    actions = [e['action'] for e in server.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('annonce_fermeture') == 1
    ws.close()
