"""The staff live feed: every poste, session and log change, pushed (docs/api.md)."""
import json

from tests.live import close_code, recv_json, ws_connect


def staff_feed(live, token):
    ws = ws_connect(live.ws_url(f'/ws/staff/?token={token}'))
    hello = recv_json(ws)
    assert hello['event'] == 'hello'
    return ws, hello


def events_until(ws, predicate, limit=30):
    seen = []
    while len(seen) < limit:
        message = recv_json(ws)
        seen.append(message)
        if predicate(message):
            return seen
    raise AssertionError(f'not seen: {seen}')


def test_feed_starts_with_every_poste(live):
    poste = live.make_poste()
    ws, hello = staff_feed(live, live.admin_token())
    assert [p['id'] for p in hello['postes']] == [poste['id']]
    assert 'kiosk_token' not in hello['postes'][0]


def test_feed_pushes_session_poste_and_log_changes(live):
    poste = live.make_poste()
    ws, _ = staff_feed(live, live.admin_token())
    session = live.make_session(poste['id'])
    seen = events_until(ws, lambda m: m['event'] == 'session' and m['session']['id'] == session['id'])
    assert any(m['event'] == 'log' and m['log']['action'] == 'generation_code' for m in seen)
    live.api('POST', '/api/sessions/validate-code/', {'code': session['code_acces'], 'poste': poste['id']},
             expect=200)
    seen = events_until(ws, lambda m: m['event'] == 'poste' and m['poste']['statut'] == 'occupe')
    tile = seen[-1]['poste']
    assert tile['session_active']['id'] == session['id'] and tile['session_active']['utilisateur_nom']


def test_feed_refuses_bad_or_revoked_tokens(live):
    assert close_code(ws_connect(live.ws_url('/ws/staff/?token=faux'))) == 4401
    assert close_code(ws_connect(live.ws_url('/ws/staff/'))) == 4401
    status, tokens = live.request('POST', '/api/token/', {'username': 'admin',
                                                          'password': live.initial_password()})
    live.request('POST', '/api/auth/logout/', {'refresh': tokens['refresh']}, token=tokens['access'])
    assert close_code(ws_connect(live.ws_url(f'/ws/staff/?token={tokens["access"]}'))) == 4401


def test_feed_is_read_only(live):
    ws, _ = staff_feed(live, live.admin_token())
    ws.send(json.dumps({'type': 'terminate', 'session': 1}))
    assert recv_json(ws)['event'] == 'error'
