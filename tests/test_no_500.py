"""No byte gets a 500 (docs/api.md): unreadable headers, NUL characters, extreme dates, nested JSON
on a kiosk socket, slow headers, oversize WebSocket messages. Raw sockets where a client library
would refuse to send the bad bytes."""
import json
import socket
import struct

import pytest
import websocket

from tests.live import close_code, kiosk, recv_json, ws_connect

UPGRADE = (b'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
           b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')
# Header lines a client library would refuse to send: bytes that are not UTF-8, or a NUL.
BAD_HEADERS = [b'Origin: http://bo\xeete', b'Authorization: Bearer \xff\xfe', b'X-Poste-Token: \xc3(',
               b'X-Poste-Token: abc\x00def', b'Host: \xff.local']


def raw(port, request, wait=10):
    """Everything the server answers to `request` before it closes (or `wait` runs out)."""
    with socket.create_connection(('127.0.0.1', port), timeout=wait) as s:
        s.sendall(request)
        received = b''
        try:
            while chunk := s.recv(65536):
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return received


def json_error(answer, status):
    head, _, body = answer.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 %d ' % status), answer[:300]
    assert b'content-type: application/json' in head.lower()
    detail = json.loads(body.decode('utf-8'))['detail']
    assert isinstance(detail, str) and detail
    return detail


def get(path, *headers, host=b'127.0.0.1'):
    lines = [b'GET ' + path + b' HTTP/1.1', b'Host: ' + host, *headers, b'Connection: close']
    return b'\r\n'.join(lines) + b'\r\n\r\n'


# -- headers, on REST and on the WebSocket paths -------------------------------------------------

@pytest.mark.parametrize('header', BAD_HEADERS, ids=['origin', 'authorization', 'token', 'token-nul', 'host'])
def test_unreadable_header_is_400_json_on_rest_and_websocket_paths(live, header):
    poste = live.make_poste()
    for path in (b'/api/auth/me/', b'/api/sessions/validate-code/', b'/api/postes/'):
        assert 'illisible' in json_error(raw(live.port, get(path, header)), 400)
    for path in (b'/ws/staff/', f'/ws/poste/{poste["ip_address"]}/'.encode()):
        answer = raw(live.port, get(path, header, UPGRADE.strip()))
        assert 'illisible' in json_error(answer, 400)   # refused before the upgrade, not after
    assert 'Traceback' not in live.output()


def test_unreadable_host_is_400_when_hosts_are_checked(live_server):
    server = live_server(ALLOWED_HOSTS='poste-public.local,127.0.0.1')
    assert 'illisible' in json_error(raw(server.port, get(b'/api/health/', host=b'\xe9\xff')), 400)
    assert json_error(raw(server.port, get(b'/api/health/', host=b'ailleurs.example')), 400) == 'Hôte non autorisé.'
    assert raw(server.port, get(b'/api/health/', host=b'poste-public.local:8000')).startswith(b'HTTP/1.1 200 ')


def test_the_staff_feed_checks_allowed_hosts_like_rest(live_server):
    server = live_server(ALLOWED_HOSTS='poste-public.local,127.0.0.1')
    token = server.admin_token()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        ws_connect(server.ws_url(f'/ws/staff/?token={token}'), host='ailleurs.example')
    assert refused.value.status_code == 400
    assert json.loads(refused.value.resp_body)['detail'] == 'Hôte non autorisé.'
    ws = ws_connect(server.ws_url(f'/ws/staff/?token={token}'), host='poste-public.local', suppress_origin=True)
    assert recv_json(ws)['event'] == 'hello'


def test_unreadable_headers_in_process_too(client, admin_token):
    """The same gate answers in front of the application (no server needed): WSGI hands header bytes
    over as latin-1 text, which is what these are."""
    for name, value in (('Origin', 'http://bo\xeete'), ('Authorization', 'Bearer \xff'),
                        ('X-Poste-Token', '\xc3('), ('Host', '\xff')):
        response = client.post('/api/sessions/validate-code/', {'code': 'ABCDEF'}, headers={name: value})
        assert response.status == 400 and 'illisible' in response.json['detail'], (name, response)


# -- NUL, anywhere, on both engines ----------------------------------------------------------------

def test_nul_in_query_path_or_json_is_400(client, admin_token):
    # (The path as a server hands it over: decoded, as latin-1 text.)
    for path in ('/api/utilisateurs/?search=%00', '/api/utilisateurs/?search=a%00b', '/api/logs/?action=%00',
                 '/api/utilisateurs/?search=%C3', '/api/utilisateurs/1\x00/', '/api/postes/\xff/'):
        response = client.get(path, token=admin_token)
        assert response.status == 400, (path, response)
        assert response.json['detail'].endswith('UTF-8 sans caractère nul attendu.')
    for body in ({'nom': 'Mar\x00tin', 'prenom': 'A', 'telephone': '01', 'consentement_rgpd': True},
                 {'nom': 'Martin', 'prenom': 'A', 'telephone': '01', 'consentement_rgpd': True, 'x\x00': 1},
                 {'nom': 'Martin', 'prenom': 'A', 'telephone': '01', 'consentement_rgpd': True,
                  'notes': ['\x00']}):
        response = client.post('/api/utilisateurs/', body, token=admin_token)
        assert response.status == 400 and 'nul' in response.json['detail'], response
    login = client.post('/api/token/', {'username': 'admin', 'password': 'mot\x00de-passe'})
    assert login.status == 400 and 'nul' in login.json['detail']


def test_a_search_for_nul_is_400_on_a_live_server(live):
    token = live.admin_token()
    answer = raw(live.port, get(b'/api/utilisateurs/?search=%00', b'Authorization: Bearer ' + token.encode()))
    assert json_error(answer, 400).startswith('Paramètres de requête illisibles')
    answer = raw(live.port, get(b'/ws/poste/10.0.0.1%00/', UPGRADE.strip()))
    assert json_error(answer, 400).startswith('Chemin illisible')
    answer = raw(live.port, get(b'/ws/staff/?token=%00', UPGRADE.strip()))
    assert json_error(answer, 400).startswith('Paramètres de requête illisibles')


# -- dates, nested JSON ------------------------------------------------------------------------------

def test_extreme_dates_on_stats_are_400(client, staff_token):
    for query in ('date_min=0001-01-01', 'date_max=9999-12-31', 'date_min=0001-01-01&date_max=0001-01-30',
                  'date_min=9999-12-01&date_max=9999-12-31', 'date_max=0001-01-01'):
        response = client.get(f'/api/stats/?{query}', token=staff_token)
        assert response.status == 400, (query, response)
        assert 'hors limites' in json.dumps(response.json['errors'], ensure_ascii=False)
    assert client.get('/api/stats/?date_min=2026-01-01&date_max=2026-01-31', token=staff_token).status == 200


def test_deeply_nested_json_on_a_kiosk_socket_is_answered_with_an_error(live):
    ws, _ = kiosk(live, live.make_poste())
    ws.send('[' * 30000 + ']' * 30000)    # 60,000 bytes: within the 64 KiB a message may have
    reply = recv_json(ws)
    assert reply['action'] == 'error' and reply['detail']
    ws.send(json.dumps({'type': 'heartbeat'}))
    ws.send('{"type": "danser"}')
    assert recv_json(ws)['action'] == 'error'    # the connection is still there
    assert 'Traceback' not in live.output()


# -- slow headers ----------------------------------------------------------------------------------

def test_a_client_that_stops_sending_headers_is_cut(live_server):
    server = live_server(HEADER_TIMEOUT=1)
    with socket.create_connection(('127.0.0.1', server.port), timeout=0.2) as s:
        s.sendall(b'GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        cut = False
        for _ in range(50):      # a header byte every 0.2 s: busy, but never finishing
            try:
                s.sendall(b'X')
                if s.recv(100) == b'':
                    cut = True
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
        assert cut
    # A whole request is served as always, on a connection of its own.
    assert raw(server.port, get(b'/api/health/')).startswith(b'HTTP/1.1 200 ')


# -- oversize WebSocket messages ------------------------------------------------------------------------

def test_an_oversize_frame_is_closed_with_1009_every_time(live):
    poste = live.make_poste()
    for size in (64 * 1024 + 1, 70 * 1024, 1024 * 1024):
        ws, _ = kiosk(live, poste)
        ws.send('x' * size)
        assert close_code(ws) == 1009, size
    # A message of many small frames counts as a whole.
    ws, _ = kiosk(live, poste)
    chunk = 'y' * 16 * 1024
    ws.send_frame(websocket.ABNF.create_frame(chunk, websocket.ABNF.OPCODE_TEXT, fin=0))
    for _ in range(4):
        ws.send_frame(websocket.ABNF.create_frame(chunk, websocket.ABNF.OPCODE_CONT, fin=0))
    assert close_code(ws) == 1009
    again, sync = kiosk(live, poste)
    assert sync['action'] == 'sync'


def test_a_protocol_error_closes_with_1002_and_bad_text_with_1007(live):
    poste = live.make_poste()
    ws, _ = kiosk(live, poste)
    ws.send_frame(websocket.ABNF.create_frame('x', websocket.ABNF.OPCODE_CONT))   # a continuation of nothing
    assert close_code(ws) == 1002
    ws, _ = kiosk(live, poste)
    ws.sock.sendall(_masked_text_frame(b'\xff\xfe'))
    assert close_code(ws) == 1007


def _masked_text_frame(payload):
    mask = b'\x01\x02\x03\x04'
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack('!BB', 0x81, 0x80 | len(payload)) + mask + masked
