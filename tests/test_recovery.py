"""Crash and restart: time survives kill -9, what ran out while stopped ends at start-up,
SIGTERM closes kiosks with "going away" and exits 0."""
import time
from datetime import datetime, timedelta

from tests.live import close_code, kiosk


def test_kill_9_keeps_remaining_time_and_waiting_codes(live_server):
    server = live_server()
    poste = server.make_poste()
    running = server.make_session(poste['id'], duree=3600)
    server.start_session(running, poste)
    other = server.make_poste('Poste 2', '10.0.0.12')
    waiting = server.make_session(other['id'], duree=900, nom='Attente', prenom='Paul')
    started = time.monotonic()
    assert server.kill() == -9
    time.sleep(1.5)
    server.start()
    elapsed = time.monotonic() - started
    resumed = server.api('GET', f'/api/sessions/{running["id"]}/')
    assert resumed['statut'] == 'active'
    assert abs(resumed['temps_restant'] - (3600 - elapsed)) <= 2
    # A reconnecting kiosk hears the server's figure.
    ws, sync = kiosk(server, poste)
    assert sync['session']['id'] == running['id'] and abs(sync['temps_restant'] - (3600 - elapsed)) <= 2
    # The waiting code still works.
    status, body = server.request('POST', '/api/sessions/validate-code/', {'code': waiting['code_acces']},
                                  headers={'X-Poste-Token': other['kiosk_token']})
    assert status == 200 and body['temps_restant'] == 900


def test_sessions_that_ran_out_while_stopped_end_at_start(live_server):
    server = live_server()
    poste = server.make_poste()
    session = server.make_session(poste['id'], duree=600)
    server.start_session(session, poste)
    assert server.stop() == 0
    past = (datetime.utcnow() - timedelta(minutes=5)).strftime('%Y-%m-%d %H:%M:%S')
    server.execute_sql('UPDATE poste_session SET fin_prevue = ? WHERE id = ?', (past, session['id']))
    server.start()
    ended = server.api('GET', f'/api/sessions/{session["id"]}/')
    assert ended['statut'] == 'expiree' and ended['raison_fin'] == 'expiration'
    assert server.api('GET', f'/api/postes/{poste["id"]}/')['statut'] == 'disponible'


def test_sigterm_says_going_away_and_exits_0(running):
    server, session, ws = running.server, running.session, running.ws
    assert server.process.poll() is None
    server.process.send_signal(15)
    assert close_code(ws) == 1001        # not close_session: the visitor's time goes on
    assert server.process.wait(10) == 0
    server.stop()
    server.start()
    assert server.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'active'


def test_kiosk_that_does_not_come_back_is_marked_offline(live_server):
    server = live_server(HEARTBEAT_TIMEOUT=1)
    poste = server.make_poste()
    ws, _ = kiosk(server, poste)
    assert server.stop() == 0                # the kiosk is switched off with the box
    server.start()
    deadline = time.monotonic() + 25     # the scheduler checks every 10 s
    while server.api('GET', f'/api/postes/{poste["id"]}/')['statut'] != 'hors_ligne':
        assert time.monotonic() < deadline, 'poste never marked hors_ligne'
        time.sleep(0.5)
    logs = server.api('GET', f'/api/logs/?poste={poste["id"]}&action=deconnexion_poste')
    assert logs['count'] == 1
