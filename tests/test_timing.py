"""Warnings and expiry on the second, with real short durations (docs/api.md, « Warnings »)."""
import json
import time

import pytest

from tests.live import kiosk, recv_json


@pytest.mark.slow
def test_warnings_and_close_on_time_connected_or_not(live_server):
    server = live_server(WARNING_TIMES='58,55')
    with_kiosk = server.make_poste('Poste A', '10.0.0.21')
    without_kiosk = server.make_poste('Poste B', '10.0.0.22')
    watched = server.make_session(with_kiosk['id'], duree=60, nom='Un', prenom='Visiteur')
    alone = server.make_session(without_kiosk['id'], duree=60, nom='Deux', prenom='Visiteur')
    server.api('POST', '/api/sessions/validate-code/',
               {'code': alone['code_acces'], 'poste': without_kiosk['id']}, expect=200)
    ws, _ = kiosk(server, with_kiosk)
    ws.send(json.dumps({'type': 'validate_code', 'code': watched['code_acces']}))
    started = recv_json(ws)
    t0 = time.monotonic()
    assert started['action'] == 'session_started' and started['temps_restant'] == 60

    timeline = []
    while True:
        message = recv_json(ws, timeout=70)
        timeline.append((time.monotonic() - t0, message))
        if message['action'] == 'close_session':
            break
    warnings = [(t, m) for t, m in timeline if m['action'] == 'warning']
    assert [m['temps_restant'] for _, m in warnings] == [58, 55]
    assert abs(warnings[0][0] - 2) <= 1 and abs(warnings[1][0] - 5) <= 1
    assert warnings[1][1]['message'] == 'Il vous reste 55 secondes.'
    closed_at, closed = timeline[-1]
    assert closed['raison'] == 'expiration' and abs(closed_at - 60) <= 1

    # The session whose poste had no kiosk ended on time too.
    ended = server.api('GET', f'/api/sessions/{alone["id"]}/')
    assert ended['statut'] == 'expiree' and ended['temps_restant'] == 0
    postes = {p['id']: p for p in server.api('GET', '/api/postes/')['results']}
    assert postes[with_kiosk['id']]['statut'] == 'disponible'
    assert postes[with_kiosk['id']]['session_active'] is None
    actions = [e['action'] for e in server.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('avertissement') == 4 and actions.count('expiration') == 2
    status, metrics = server.request('GET', '/metrics', token=server.admin_token())
    text = metrics.decode()
    name = 'poste_public_session_event_lateness_seconds'
    assert f'{name}_bucket{{kind="warning",le="1"}} 4' in text   # all four within a second
    assert f'{name}_bucket{{kind="close",le="1"}} 2' in text
