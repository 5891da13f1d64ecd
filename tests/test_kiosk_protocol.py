"""The kiosk's runtime (state machine + server link + kept session + end command), headless, against a
real server: CONTRACT §3 validate-code and §4 spoken by the real client, in its own process."""
import json
import signal
import subprocess
import sys
import time

import pytest

from tests.kiosk_support import HeadlessKiosk, end_runs, wait_until, write_config
from tests.live import LiveServer

POSTE_IP = '10.0.0.31'


@pytest.fixture
def setup(live, tmp_path):
    """A poste on the live server and a kiosk configuration for it."""
    poste = live.make_poste('Poste Kiosque', POSTE_IP)
    paths = {'config': str(tmp_path / 'kiosk.ini'), 'state': str(tmp_path / 'session.json'),
             'end': str(tmp_path / 'end.log'), 'log': str(tmp_path / 'kiosk.log')}
    write_config(paths['config'], live.base_url, POSTE_IP, poste['kiosk_token'], paths['state'],
                 paths['end'])
    return poste, paths


@pytest.fixture
def kiosk(setup):
    poste, paths = setup
    process = HeadlessKiosk(paths['config'], paths['log'])
    yield process
    process.stop()


def poste_state(live, poste):
    return live.api('GET', '/api/postes/{}/'.format(poste['id']), expect=200)


def session_state(live, session):
    return live.api('GET', '/api/sessions/{}/'.format(session['id']), expect=200)


def test_a_good_code_unlocks_and_heartbeats_keep_the_poste_online(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    wait_until(lambda: poste_state(live, poste)['en_ligne'], 10, message='poste online')
    session = live.make_session(poste['id'], duree=1800)
    kiosk.command('code ' + session['code_acces'].lower())
    view = kiosk.wait(lambda v: not v['locked'])
    assert view['code'] == session['code_acces']
    assert 1795 <= view['remaining'] <= 1800
    assert session_state(live, session)['statut'] == 'active'
    assert poste_state(live, poste)['statut'] == 'occupe'
    with open(paths['state'], encoding='utf-8') as f:
        assert json.load(f)['code'] == session['code_acces']      # kept for a reboot


def test_a_wrong_code_is_refused_with_the_servers_words(live, setup, kiosk):
    kiosk.wait_online()
    kiosk.command('code ZZZ999')
    view = kiosk.wait(lambda v: v['error'])
    assert view['feedback'] == 'Code inconnu ou expiré.' and view['locked']


def test_a_code_for_another_poste_is_refused(live, setup, kiosk):
    other = live.make_poste('Autre poste', '10.0.0.32')
    session = live.make_session(other['id'])
    kiosk.wait_online()
    kiosk.command('code ' + session['code_acces'])
    view = kiosk.wait(lambda v: v['error'])
    assert view['feedback'] == 'Ce code est réservé à un autre poste.'


def test_too_many_wrong_codes(live, setup, kiosk):
    kiosk.wait_online()
    for attempt in range(11):
        before = kiosk.command('code ZZZ99{}'.format(attempt % 10))
        kiosk.wait(lambda v: v['error'] and v['can_enter_code'], message='answer', after=before)
        if kiosk.view['feedback'] != 'Code inconnu ou expiré.':
            break
    assert kiosk.view['feedback'] == "Trop d'essais : patientez une minute"


def test_add_time_and_staff_termination_reach_the_kiosk(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    session = live.make_session(poste['id'], duree=600)
    kiosk.command('code ' + session['code_acces'])
    kiosk.wait(lambda v: not v['locked'])
    live.api('POST', '/api/sessions/{}/add-time/'.format(session['id']), {'minutes': 10}, expect=200)
    view = kiosk.wait(lambda v: v['remaining'] > 600)
    assert 1195 <= view['remaining'] <= 1200
    assert view['notice'] == 'Temps ajouté : 10 minutes.'
    live.api('POST', '/api/sessions/{}/terminate/'.format(session['id']), {}, expect=200)
    view = kiosk.wait(lambda v: v['locked'], timeout=1)
    assert view['feedback'] == "Votre session a été fermée par l'accueil."
    wait_until(lambda: end_runs(paths['end']) == 1, 5, message='end command')
    wait_until(lambda: not _exists(paths['state']), 2, message='kept session forgotten')


def test_end_my_session_ends_it_on_the_server(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    session = live.make_session(poste['id'])
    kiosk.command('code ' + session['code_acces'])
    kiosk.wait(lambda v: not v['locked'])
    kiosk.command('end')
    kiosk.wait(lambda v: v['locked'])
    ended = wait_until(lambda: _ended(session_state(live, session)), 5, message='session ended')
    assert ended['raison_fin'] == 'fermeture_utilisateur'
    assert poste_state(live, poste)['statut'] == 'disponible'
    wait_until(lambda: end_runs(paths['end']) == 1, 5, message='end command')


def test_warnings_are_shown(tmp_path):
    server = LiveServer(tmp_path, WARNING_TIMES='57').start()
    try:
        poste = server.make_poste('Poste Kiosque', POSTE_IP)
        config = write_config(str(tmp_path / 'kiosk.ini'), server.base_url, POSTE_IP,
                              poste['kiosk_token'], str(tmp_path / 'state.json'),
                              str(tmp_path / 'end.log'))
        kiosk = HeadlessKiosk(config, str(tmp_path / 'kiosk.log'))
        try:
            kiosk.wait_online()
            session = server.make_session(poste['id'], duree=60)
            kiosk.command('code ' + session['code_acces'])
            kiosk.wait(lambda v: not v['locked'])
            view = kiosk.wait(lambda v: v['notice'], timeout=6)
            assert view['notice'].startswith('Il vous reste')     # the server's words
            assert 55 <= view['remaining'] <= 57
        finally:
            kiosk.stop()
    finally:
        server.stop()


def test_server_restart_mid_session_the_countdown_goes_on_and_resyncs(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    session = live.make_session(poste['id'], duree=1800)
    kiosk.command('code ' + session['code_acces'])
    kiosk.wait(lambda v: not v['locked'])
    live.stop()
    kiosk.wait(lambda v: v['link'] == 'Serveur injoignable : nouvelle tentative…')
    before = kiosk.view['remaining']
    kiosk.wait(lambda v: v['remaining'] <= before - 2, timeout=5)     # still counting down
    assert not kiosk.view['locked']
    live.start()
    kiosk.wait(lambda v: v['link'] is None, timeout=20)
    server_left = session_state(live, session)['temps_restant']
    kiosk.wait(lambda v: abs(v['remaining'] - server_left) <= 2, timeout=6)
    assert not kiosk.view['locked'] and end_runs(paths['end']) == 0


def test_a_restarted_kiosk_resumes_its_session(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    session = live.make_session(poste['id'], duree=1800)
    kiosk.command('code ' + session['code_acces'])
    kiosk.wait(lambda v: not v['locked'])
    kiosk.kill()
    again = HeadlessKiosk(paths['config'], paths['log'])
    try:
        view = again.wait(lambda v: not v['locked'])        # at once, from the kept session
        assert view['code'] == session['code_acces']
        again.wait(lambda v: v['link'] is None and not v['locked'])
        again.process.stdin.close()
        again.process.wait(5)
        log = again.log()
        assert 'resuming the session kept in' in log
        assert end_runs(paths['end']) == 0
        assert session_state(live, session)['statut'] == 'active'
    finally:
        again.stop()


def test_a_kept_session_that_ended_meanwhile_locks_on_restart(live, setup, kiosk):
    poste, paths = setup
    kiosk.wait_online()
    session = live.make_session(poste['id'], duree=1800)
    kiosk.command('code ' + session['code_acces'])
    kiosk.wait(lambda v: not v['locked'])
    kiosk.kill()
    live.api('POST', '/api/sessions/{}/terminate/'.format(session['id']), {}, expect=200)
    again = HeadlessKiosk(paths['config'], paths['log'])
    try:
        again.wait(lambda v: v['locked'] and v['link'] is None)
        wait_until(lambda: end_runs(paths['end']) == 1, 5, message='end command')
        time.sleep(0.5)                     # the answer to the re-presented code changes nothing
        assert again.view['feedback'] == 'Session terminée.' and not again.view['error']
        assert not _exists(paths['state'])
    finally:
        again.stop()


@pytest.mark.parametrize('poste_ip, token, text', [
    ('10.9.9.9', None, "Ce poste n'est pas enregistré sur le serveur : prévenez l'accueil."),
    (POSTE_IP, 'faux-jeton', "Ce poste n'est pas autorisé par le serveur : prévenez l'accueil."),
])
def test_a_refused_kiosk_says_why(live, setup, tmp_path, poste_ip, token, text):
    poste, paths = setup
    config = write_config(str(tmp_path / 'other.ini'), live.base_url, poste_ip,
                          token or poste['kiosk_token'], paths['state'], paths['end'])
    kiosk = HeadlessKiosk(config, paths['log'])
    try:
        view = kiosk.wait(lambda v: v['link'] == text)
        assert not view['can_enter_code']
    finally:
        kiosk.stop()


def _ended(session):
    return session if session['statut'] == 'terminee' else None


def _exists(path):
    import os
    return os.path.exists(path)


# The link alone, with short silences, in its own process.
LINK_SCRIPT = """
import queue, sys
from appliance.kiosk.connection import Connection
events = queue.Queue()
Connection(sys.argv[1], {'X-Poste-Token': sys.argv[2]}, events, ping_after=1, dead_after=3).start()
while True:
    event = events.get()
    print(event[0], flush=True)
    if event[0] == 'disconnected':
        break
"""


def test_a_frozen_server_is_noticed_by_its_silence(live, setup):
    poste, paths = setup
    url = live.ws_url('/ws/poste/{}/'.format(POSTE_IP))
    link = subprocess.Popen([sys.executable, '-c', LINK_SCRIPT, url, poste['kiosk_token']],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert link.stdout.readline().strip() == 'connected'
        assert link.stdout.readline().strip() == 'message'          # the sync
        live.process.send_signal(signal.SIGSTOP)                    # the socket stays open, mute
        try:
            started = time.monotonic()
            assert link.stdout.readline().strip() == 'disconnected'
            assert 2.5 <= time.monotonic() - started <= 5
        finally:
            live.process.send_signal(signal.SIGCONT)
    finally:
        link.kill()
        link.wait()
