"""The staff live feed: every poste, session and log change, pushed (docs/api.md)."""
import json
import struct

import websocket

from tests.live import close_code, recv_json, ws_connect

PASSWORD = 'Accueil-Mediatheque-2026'


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
    live.start_session(session, poste)
    seen = events_until(ws, lambda m: m['event'] == 'poste' and m['poste']['statut'] == 'occupe')
    tile = seen[-1]['poste']
    assert tile['session_active']['id'] == session['id'] and tile['session_active']['utilisateur_nom']


def test_feed_refuses_bad_or_revoked_tokens(live):
    assert close_code(ws_connect(live.ws_url('/ws/staff/?token=faux'))) == 4401
    assert close_code(ws_connect(live.ws_url('/ws/staff/'))) == 4401
    status, tokens = live.request('POST', '/api/token/', {'username': 'admin',
                                                          'password': live.admin_password()})
    live.request('POST', '/api/auth/logout/', {'refresh': tokens['refresh']}, token=tokens['access'])
    assert close_code(ws_connect(live.ws_url(f'/ws/staff/?token={tokens["access"]}'))) == 4401


def test_feed_is_read_only(live):
    ws, _ = staff_feed(live, live.admin_token())
    ws.send(json.dumps({'type': 'terminate', 'session': 1}))
    assert recv_json(ws)['event'] == 'error'


# -- a feed lives no longer than its login --------------------------------------------------------

def chatter_until_closed(ws, rounds):
    """Be a dashboard that keeps talking (a ping text every 0.1 s) until the server closes the feed;
    returns the close code, or None if it stayed open all along."""
    ws.settimeout(0.1)
    for _ in range(rounds):
        try:
            ws.send('ping')
            while True:
                opcode, data = ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, BrokenPipeError, ConnectionResetError):
            return 'reset'
    return None


def login(live, username, password):
    status, tokens = live.request('POST', '/api/token/', {'username': username, 'password': password})
    assert status == 200, tokens
    return tokens


def add_staff(live, username):
    return live.api('POST', '/api/comptes/', {'username': username, 'password': PASSWORD, 'role': 'staff'},
                    expect=201)


def test_feed_is_closed_at_logout_whatever_the_dashboard_sends(live):
    add_staff(live, 'agent')
    tokens = login(live, 'agent', PASSWORD)
    ws, _ = staff_feed(live, tokens['access'])
    other, _ = staff_feed(live, live.admin_token())
    assert chatter_until_closed(ws, 10) is None          # a valid login: the feed stays
    live.request('POST', '/api/auth/logout/', {'refresh': tokens['refresh']}, token=tokens['access'])
    assert chatter_until_closed(ws, 30) == 4401
    assert chatter_until_closed(other, 5) is None        # another login's feed is not touched


def test_feed_is_closed_when_the_account_is_deactivated_or_its_password_changed(live):
    agent = add_staff(live, 'agent')
    add_staff(live, 'second')
    ws, _ = staff_feed(live, login(live, 'agent', PASSWORD)['access'])
    live.api('PATCH', f'/api/comptes/{agent["id"]}/', {'is_active': False}, expect=200)
    assert chatter_until_closed(ws, 30) == 4401
    tokens = login(live, 'second', PASSWORD)
    ws, _ = staff_feed(live, tokens['access'])
    status, _ = live.request('POST', '/api/auth/change-password/',
                             {'old_password': PASSWORD, 'new_password': 'Un-autre-mot-de-passe-9'},
                             token=tokens['access'])
    assert status == 204
    assert chatter_until_closed(ws, 30) == 4401


def test_feed_is_closed_when_its_token_expires(live_server):
    server = live_server(ACCESS_TOKEN_LIFETIME=5)
    ws, _ = staff_feed(server, server.admin_token())
    assert chatter_until_closed(ws, 100) == 4401   # within seconds of the expiry, chatter or not
