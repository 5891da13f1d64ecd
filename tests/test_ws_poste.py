"""The kiosk WebSocket protocol against a real server (docs/api.md)."""
import json
import time

import pytest

from tests.live import close_code, kiosk, nothing_within, recv_action, recv_json, ws_connect


@pytest.fixture
def poste(live):
    return live.make_poste()


def test_unknown_poste_is_4404(live):
    ws = ws_connect(live.ws_url('/ws/poste/10.9.9.9/?token=x'))
    assert close_code(ws) == 4404


def test_bad_token_is_4403(live, poste):
    ws = ws_connect(live.ws_url(f'/ws/poste/{poste["ip_address"]}/?token=faux'))
    assert close_code(ws) == 4403


def test_token_in_header_is_accepted(live, poste):
    ws = ws_connect(live.ws_url(f'/ws/poste/{poste["ip_address"]}/'),
                    header=[f'X-Poste-Token: {poste["kiosk_token"]}'])
    assert recv_json(ws)['action'] == 'sync'


def test_foreign_origin_is_refused(live, poste):
    ws = ws_connect(live.ws_url(f'/ws/poste/{poste["ip_address"]}/?token={poste["kiosk_token"]}'),
                    origin='http://evil.example')
    assert close_code(ws) == 4403


def test_sync_on_connect_marks_poste_online(live, poste):
    ws, sync = kiosk(live, poste)
    assert sync['statut'] == 'disponible' and sync['session'] is None and sync['temps_restant'] is None
    assert sync['server_time'].endswith('+00:00')
    shown = live.api('GET', f'/api/postes/{poste["id"]}/')
    assert shown['en_ligne'] is True and shown['derniere_connexion']
    actions = [e['action'] for e in live.api('GET', f'/api/logs/?poste={poste["id"]}')['results']]
    assert 'connexion_poste' in actions


def test_validate_code_starts_session(running):
    started = running.started
    assert started['session']['id'] == running.session['id'] and started['temps_restant'] == 1800
    assert running.server.api('GET', f'/api/postes/{running.poste["id"]}/')['statut'] == 'occupe'


def test_wrong_code_answers_code_invalid(live, poste):
    ws, _ = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': 'ZZZZZZ'}))
    reply = recv_json(ws)
    assert reply == {'action': 'code_invalid', 'detail': 'Code inconnu ou expiré.'}


def test_staff_actions_reach_the_kiosk_at_once(running):
    live, session, ws = running.server, running.session, running.ws
    started = time.monotonic()
    live.api('POST', f'/api/sessions/{session["id"]}/add-time/', {'minutes': 10}, expect=200)
    added = recv_action(ws, 'add_time', timeout=1)
    assert added['seconds'] == 600 and 2390 <= added['temps_restant'] <= 2400
    live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
    closed = recv_action(ws, 'close_session', timeout=1)
    assert closed['raison'] == 'fermeture_staff'
    assert time.monotonic() - started < 2


def test_visitor_ends_session(running):
    running.send({'type': 'end_session'})
    assert recv_action(running.ws, 'close_session')['raison'] == 'fermeture_utilisateur'
    ended = running.server.api('GET', f'/api/sessions/{running.session["id"]}/')
    assert ended['statut'] == 'terminee' and ended['raison_fin'] == 'fermeture_utilisateur'


def test_heartbeat_drift_gets_sync_and_ended_code_gets_close(running):
    live, session, ws = running.server, running.session, running.ws
    ws.send(json.dumps({'type': 'heartbeat', 'temps_restant': 1799, 'code': session['code_acces']}))
    assert nothing_within(ws, 0.5)          # within 2 s: no correction needed
    ws.send(json.dumps({'type': 'heartbeat', 'temps_restant': 1000, 'code': session['code_acces']}))
    sync = recv_json(ws)
    assert sync['action'] == 'sync' and sync['temps_restant'] > 1790
    live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
    recv_action(ws, 'close_session')
    ws.send(json.dumps({'type': 'heartbeat', 'temps_restant': 1700, 'code': session['code_acces']}))
    assert recv_json(ws) == {'action': 'close_session', 'raison': 'fermeture_staff'}


def test_idle_kiosk_with_running_session_gets_sync(live, poste):
    session = live.make_session(poste['id'])
    live.start_session(session, poste)
    ws, sync = kiosk(live, poste)
    assert sync['session']['id'] == session['id'] and sync['statut'] == 'occupe'
    ws.send(json.dumps({'type': 'heartbeat'}))
    assert recv_json(ws)['action'] == 'sync'


def test_malformed_messages_get_error_and_connection_stays(live, poste):
    ws, _ = kiosk(live, poste)
    for bad in ('pas du json', '[1, 2]', '{"sans": "type"}', '{"type": "danser"}'):
        ws.send(bad)
        reply = recv_json(ws)
        assert reply['action'] == 'error' and reply['detail']
    ws.send(json.dumps({'type': 'validate_code', 'code': 'ZZZZZZ'}))
    assert recv_json(ws)['action'] == 'code_invalid'


def test_oversized_frame_closes_with_1009(live, poste):
    ws, _ = kiosk(live, poste)
    ws.send('x' * (70 * 1024))
    # 1009, or a reset or bare close when the server drops the unread frame with the connection.
    assert close_code(ws) in (1009, 'reset', None)
    again, sync = kiosk(live, poste)
    assert sync['action'] == 'sync'  # the server is unharmed


def test_new_token_disconnects_old_kiosk(live, poste):
    ws, _ = kiosk(live, poste)
    fresh = live.api('POST', f'/api/postes/{poste["id"]}/token/', expect=200)
    assert close_code(ws) == 4403
    ws2, sync = kiosk(live, poste, token=fresh['kiosk_token'])
    assert sync['action'] == 'sync'
    old = ws_connect(live.ws_url(f'/ws/poste/{poste["ip_address"]}/?token={poste["kiosk_token"]}'))
    assert close_code(old) == 4403


def test_plain_http_on_ws_route_is_426(live, poste):
    status, body = live.request('GET', f'/ws/poste/{poste["ip_address"]}/')
    assert status == 426 and body['detail']
