"""Hundreds of kiosks at once on one real server."""
import json

import gevent

from tests.live import kiosk, nothing_within, recv_action

COUNT = 200


def test_hundreds_of_kiosks_start_and_are_told_apart(live):
    postes = [live.make_poste(f'Poste {n:03d}', f'10.7.{n // 200}.{n % 200 + 1}') for n in range(COUNT)]
    sessions = [live.make_session(p['id'], duree=1800, nom=f'Visiteur{n}') for n, p in enumerate(postes)]
    sockets = [None] * COUNT

    def connect_and_start(n):
        # Generous time-outs: two hundred connections at once on a loaded two-core machine.
        ws, sync = kiosk(live, postes[n], timeout=20)
        assert sync['statut'] == 'disponible'
        ws.send(json.dumps({'type': 'validate_code', 'code': sessions[n]['code_acces']}))
        started = recv_action(ws, 'session_started', timeout=20)
        assert started['session']['id'] == sessions[n]['id']   # each kiosk hears its own session
        sockets[n] = ws

    jobs = [gevent.spawn(connect_and_start, n) for n in range(COUNT)]
    gevent.joinall(jobs, raise_error=True)

    room = live.api('GET', '/api/postes/?page_size=200')
    assert room['count'] == COUNT
    assert all(p['statut'] == 'occupe' and p['en_ligne'] for p in room['results'])
    status, metrics = live.request('GET', '/metrics', token=live.admin_token())
    assert f'poste_public_kiosk_connections {COUNT}' in metrics.decode()

    # Staff end one session: only that kiosk is told.
    live.api('POST', f'/api/sessions/{sessions[7]["id"]}/terminate/', {}, expect=200)
    assert recv_action(sockets[7], 'close_session')['raison'] == 'fermeture_staff'
    assert nothing_within(sockets[8], 0.5)
    for ws in sockets:
        ws.close()
