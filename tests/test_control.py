"""Live control of the postes (docs/api.md, « Contrôle des postes »): messages, commands and
Wake-on-LAN, the pause, requests for more time, inactivity.

First the desk on the injected clock (exact times), then a real server with real kiosk sockets and
a real UDP socket on loopback for the Wake-on-LAN packet (nothing is ever sent to a broadcast
address here).
"""
import json
import os
import socket
import time

import pytest

from appliance import db, events
from appliance.errors import Conflict, Forbidden
from appliance.models import Log, Session
from tests import support
from tests.live import (kiosk, nothing_within, recv_action, recv_event, recv_first, recv_json, start_running_session,
                        ws_connect)

CONTROL_FACTS = (events.SESSION_PAUSED, events.SESSION_RESUMED, events.SESSION_ENDED, events.WARNING_DUE,
                 events.TIME_ADDED, events.TIME_REQUESTED, events.TIME_REFUSED, events.DEMANDE_CHANGED)


# -- the desk, on the injected clock --------------------------------------------------------------

@pytest.fixture
def facts(ctx):
    heard = []

    def listener(kind, payload):
        heard.append((kind, payload))
    events.subscribe(listener, *CONTROL_FACTS)
    yield heard
    events.unsubscribe(listener)


@pytest.fixture
def desk(ctx):
    with db.database.connection_context():
        yield ctx.desk


@pytest.fixture
def compte(ctx):
    return support.make_compte('bibliothecaire')


def started_session(desk, compte, duree=1800, nom='Martin', poste=None):
    poste = poste or desk.create_poste({'nom': 'Poste 1', 'ip_address': '10.0.0.11'}, operateur=compte, ip=None)[0]
    visitor = desk.create_visitor({'nom': nom, 'prenom': 'Alice', 'email': f'{nom.lower()}@example.org',
                                   'consentement_rgpd': True}, operateur=compte, ip=None)
    session = desk.create_session(visitor, poste, duree, operateur=compte, ip=None)
    return poste, desk.validate_code(session.code_acces, poste, source_ip='10.0.0.11')


def of(facts, kind):
    return [payload for k, payload in facts if k == kind]


def test_a_paused_session_keeps_its_time_and_is_neither_warned_nor_ended(ctx, desk, compte, facts):
    poste, session = started_session(desk, compte, duree=700)
    ctx.clock.advance(50)                      # 650 s left
    paused = desk.pause(session, operateur=compte, ip=None)
    assert paused.statut == 'suspendue' and desk.session_json(paused)['temps_restant'] == 650
    assert of(facts, events.SESSION_PAUSED) == [{'poste_id': poste.id, 'temps_restant': 650, 'pause_max': 900}]
    ctx.clock.advance(800)                     # longer than the time left: nothing happens
    assert desk.process_due([session.id])[0].statut == 'suspendue'
    assert desk.expire_due() == []
    assert desk.session_json(paused)['temps_restant'] == 650
    assert not of(facts, events.WARNING_DUE) and not of(facts, events.SESSION_ENDED)
    assert desk.poste_state(poste.id)[0].statut == 'occupe'      # the poste stays the visitor's
    with pytest.raises(Conflict):
        desk.pause(session, operateur=compte, ip=None)
    resumed = desk.resume(session, operateur='', ip=None)
    assert resumed.statut == 'active' and resumed.duree_pauses == 800 and resumed.pause_debut is None
    assert of(facts, events.SESSION_RESUMED) == [{'poste_id': poste.id, 'temps_restant': 650}]
    ctx.clock.advance(50)                      # 600 s left: the first warning, on time
    desk.process_due([session.id])
    assert [p['seuil'] for p in of(facts, events.WARNING_DUE)] == [600]
    with pytest.raises(Conflict):
        desk.resume(session, operateur=compte, ip=None)
    actions = [e.action for e in Log.select().where(Log.session == session.id).order_by(Log.id)]
    assert actions[-3:] == ['pause_session', 'reprise_session', 'avertissement']


def test_an_abandoned_pause_ends_at_pause_max_to_the_second(ctx, desk, compte, facts):
    poste, session = started_session(desk, compte)
    desk.pause(session, operateur='', ip=None)
    ctx.clock.advance(ctx.config.pause_max - 0.5)
    assert desk.process_due([session.id])[0].statut == 'suspendue'
    ctx.clock.advance(0.5)
    ended = desk.process_due([session.id])[0]
    assert (ended.statut, ended.raison_fin) == ('expiree', 'pause_expiree')
    assert of(facts, events.SESSION_ENDED) == [{'poste_id': poste.id, 'session_id': session.id,
                                                'raison': 'pause_expiree'}]
    assert ended.duree_pauses == ctx.config.pause_max and ended.fin_session == ctx.clock.now()
    assert desk.poste_state(poste.id)[0].statut == 'disponible'


def test_the_visitor_resumes_with_their_own_code_only(ctx, desk, compte):
    poste, session = started_session(desk, compte)
    desk.pause_from_kiosk(poste, ip='10.0.0.11')
    with pytest.raises(Forbidden):
        desk.resume_from_kiosk(poste, 'ZZZZZZ', ip='10.0.0.11')
    assert desk.resume_from_kiosk(poste, session.code_acces.lower(), ip='10.0.0.11').statut == 'active'
    desk.pause_from_kiosk(poste, ip='10.0.0.11')
    # A rebooted kiosk presenting the code again (validate_code) hears that it is paused: only the
    # visitor's `resume` resumes it.
    assert desk.validate_code(session.code_acces, poste, source_ip='10.0.0.11').statut == 'suspendue'


def test_a_request_is_granted_at_once_unless_someone_waits(ctx, desk, compte, facts):
    poste, session = started_session(desk, compte, duree=900)
    granted = desk.request_time(poste, 600, ip='10.0.0.11')
    assert granted.statut == 'acceptee'
    assert of(facts, events.TIME_ADDED) == [{'poste_id': poste.id, 'seconds': 600, 'temps_restant': 1500}]
    # Someone now waits for any poste: the next request waits for staff.
    visitor = desk.create_visitor({'nom': 'Durand', 'prenom': 'Paul', 'email': 'p@example.org',
                                   'consentement_rgpd': True}, operateur=compte, ip=None)
    desk.create_session(visitor, None, 900, operateur=compte, ip=None)
    assert desk.time_request_auto_refusal(session, 600, ctx.clock.now()) == 'attente'
    pending = desk.request_time(poste, 300, ip='10.0.0.11')
    assert pending.statut == 'en_attente' and of(facts, events.TIME_REQUESTED) == [{'poste_id': poste.id,
                                                                                   'seconds': 300}]
    with pytest.raises(Conflict):              # one pending request per session
        desk.request_time(poste, 300, ip='10.0.0.11')
    accepted = desk.accept_demande(pending, 120, operateur=compte, ip=None)
    assert accepted.statut == 'acceptee' and accepted.operateur == 'bibliothecaire'
    assert [p['seconds'] for p in of(facts, events.TIME_ADDED)] == [600, 120]
    with pytest.raises(Conflict):
        desk.accept_demande(pending, None, operateur=compte, ip=None)
    refused = desk.refuse_demande(desk.request_time(poste, 60, ip=None), 'Fermeture bientôt.',
                                  operateur=compte, ip=None)
    assert refused.statut == 'refusee'
    assert of(facts, events.TIME_REFUSED) == [{'poste_id': poste.id, 'motif': 'Fermeture bientôt.'}]


def test_a_request_ends_with_its_session(ctx, desk, compte, facts):
    poste, session = started_session(desk, compte)
    ctx.config.__dict__['extension_auto'] = False   # frozen dataclass: the test's own setting
    try:
        pending = desk.request_time(poste, 600, ip=None)
    finally:
        ctx.config.__dict__['extension_auto'] = True
    assert [d.id for d in desk.pending_demandes()] == [pending.id]
    desk.terminate(session, operateur=compte, ip=None)
    assert list(desk.pending_demandes()) == [] and desk.demande(pending.id).statut == 'close'
    assert of(facts, events.DEMANDE_CHANGED)[-1]['demande']['statut'] == 'close'
    with pytest.raises(Conflict):
        desk.refuse_demande(pending, '', operateur=compte, ip=None)


def test_a_kiosk_cannot_flood_requests(ctx, desk, compte):
    poste, session = started_session(desk, compte, duree=600)
    for _ in range(10):
        assert desk.request_time(poste, 60, ip=None).statut == 'acceptee'
    with pytest.raises(Conflict) as refused:
        desk.request_time(poste, 60, ip=None)
    assert 'Trop de demandes' in refused.value.detail
    assert desk.session_json(Session.get_by_id(session.id))['temps_restant'] == 1200


def test_the_settings_and_their_refusals(tmp_path):
    from appliance.config import Config, ConfigError
    base = {'DATA_DIR': str(tmp_path), 'SECRET_KEY': 'k' * 40}
    config = Config.load(environ=base, cwd=str(tmp_path))
    assert (config.pause_max, config.extension_auto, config.inactivity_timeout, config.wol_address) == \
        (900, True, 0, ('255.255.255.255', 9))
    config = Config.load(environ={**base, 'PAUSE_MAX': '60', 'EXTENSION_AUTO': 'false', 'INACTIVITY_TIMEOUT': '300',
                                  'WOL_ADDRESS': '192.168.1.255:7'}, cwd=str(tmp_path))
    assert (config.pause_max, config.extension_auto, config.inactivity_timeout, config.wol_address) == \
        (60, False, 300, ('192.168.1.255', 7))
    for name, value in (('PAUSE_MAX', '0'), ('PAUSE_MAX', 'dix'), ('EXTENSION_AUTO', 'peut-être'),
                        ('INACTIVITY_TIMEOUT', '-1'), ('WOL_ADDRESS', 'broadcast'), ('WOL_ADDRESS', '10.0.0.255'),
                        ('WOL_ADDRESS', '10.0.0.255:99999')):
        with pytest.raises(ConfigError) as error:
            Config.load(environ={**base, name: value}, cwd=str(tmp_path))
        assert str(error.value).startswith(name + ':')


def test_the_kiosk_commands_have_platform_defaults_and_can_be_set(tmp_path):
    from appliance.kiosk.config import load_config
    env = {'KIOSK_SERVER': 'http://10.0.0.1:8000', 'KIOSK_POSTE': '10.0.0.11'}
    linux = load_config(env=env, platform='linux').commands
    assert linux == {'verrouiller': '', 'deconnecter': 'loginctl terminate-session "$XDG_SESSION_ID"',
                     'redemarrer': 'systemctl reboot', 'eteindre': 'systemctl poweroff'}
    assert load_config(env=env, platform='win32').commands['eteindre'] == 'shutdown /s /t 0'
    ini = tmp_path / 'kiosk.ini'
    ini.write_text('[kiosk]\nserver = http://10.0.0.1:8000\nposte = 10.0.0.11\nrestart_command =\n'
                   'shutdown_command = touch /tmp/x\n', encoding='utf-8')
    commands = load_config(str(ini), env={'KIOSK_LOGOFF_COMMAND': 'echo bye'}, platform='linux').commands
    assert commands == {'verrouiller': '', 'deconnecter': 'echo bye', 'redemarrer': '', 'eteindre': 'touch /tmp/x'}


def test_the_pause_arithmetic_is_pure():
    from datetime import datetime, timedelta
    from appliance.clock import pause_deadline, pause_seconds, paused_remaining, resumed_deadline
    start, end = datetime(2026, 3, 2, 10, 0, 0), datetime(2026, 3, 2, 10, 30, 0)
    paused_at = start + timedelta(minutes=10, seconds=0.4)
    assert paused_remaining(end, paused_at) == 1200                  # rounded up, frozen
    back = paused_at + timedelta(minutes=7)
    assert resumed_deadline(end, paused_at, back) == end + timedelta(minutes=7)
    assert resumed_deadline(end, paused_at, paused_at - timedelta(seconds=5)) == end   # a clock gone back
    assert pause_seconds(paused_at, back) == 420 and pause_seconds(back, paused_at) == 0
    assert pause_deadline(paused_at, 900) == paused_at + timedelta(seconds=900)


@pytest.fixture
def rebinding(bound_database):
    yield
    db.bind(bound_database)


def test_the_migration_keeps_the_sessions_of_a_database_in_service(rebinding, tmp_path):
    """0004_control on a database with sessions (schema 0001): nothing lost, no pause recorded."""
    from playhouse.migrations import Runner
    url = support.database_url(f'ctl{os.getpid()}', tmp_path)
    db.bind(url)
    with db.database.connection_context():
        Runner(db.database.obj, db.MIGRATIONS_DIR).up('0001_initial')
        db.database.execute_sql(
            "INSERT INTO poste_session (code_acces, duree_initiale, temps_ajoute, statut, raison_fin, operateur, "
            "notes, avertissements, created_at) VALUES ('ABC234', 600, 0, 'en_attente', '', '', '', '', "
            "'2026-01-05 09:00:00')")
    db.migrate()
    with db.database.connection_context():
        session = Session.get(Session.code_acces == 'ABC234')
        assert (session.duree_pauses, session.pause_debut, session.duree_initiale) == (0, None, 600)
        assert list(session.demandes) == []
    assert db.schema_version() >= 4
    support.drop_schema(f'ctl{os.getpid()}')


# -- a real server and real kiosks ------------------------------------------------------------------

def ms_since(start):
    return (time.monotonic() - start) * 1000


def staff_token(server):
    return server.admin_token()


def test_messages_reach_connected_kiosks_and_name_the_offline(live):
    first = live.make_poste()
    second = live.make_poste('Poste 2', '10.0.0.12')
    offline = live.make_poste('Poste 3', '10.0.0.13')
    ws1, _ = kiosk(live, first)
    ws2, _ = kiosk(live, second)
    start = time.monotonic()
    answer = live.api('POST', f'/api/postes/{first["id"]}/message/', {'message': ' Bonjour ! '}, expect=200)
    assert answer == {'envoye': [first['id']], 'hors_ligne': []}
    assert recv_action(ws1, 'message', timeout=1) == {'action': 'message', 'message': 'Bonjour !', 'de': 'Accueil'}
    assert ms_since(start) < 1000
    assert nothing_within(ws2, 0.2)
    answer = live.api('POST', '/api/postes/message/', {'message': 'Fermeture dans 10 min', 'postes': None},
                      expect=200)
    assert sorted(answer['envoye']) == sorted([first['id'], second['id']]) and answer['hors_ligne'] == []
    for ws in (ws1, ws2):
        assert recv_action(ws, 'message', timeout=1)['message'] == 'Fermeture dans 10 min'
    answer = live.api('POST', '/api/postes/message/', {'message': 'Hé', 'postes': [offline['id'], second['id']]},
                      expect=200)
    assert answer == {'envoye': [second['id']], 'hors_ligne': [offline['id']]}
    assert live.api('POST', f'/api/postes/{offline["id"]}/message/', {'message': 'x'}, expect=200) == \
        {'envoye': [], 'hors_ligne': [offline['id']]}
    log = live.api('GET', '/api/logs/?action=message_poste')['results'][0]
    assert log['operateur'] == 'admin'
    assert log['metadata'] == {'message': 'x', 'envoye': [], 'hors_ligne': [offline['id']]}
    # Refusals: clear 400s naming the field.
    for body, field in (({'message': ''}, 'message'), ({'message': 'x' * 501}, 'message'), ({}, 'message'),
                        ({'message': 'a', 'postes': []}, 'postes'), ({'message': 'a', 'postes': [999]}, 'postes'),
                        ({'message': 'a', 'postes': 'tous'}, 'postes'), ({'message': 'a', 'postes': [True]}, 'postes'),
                        ({'message': 'a\x00'}, 'message')):
        status, data = live.request('POST', '/api/postes/message/', body, token=staff_token(live))
        assert status == 400, (body, data)
        assert field is None or field in data['errors']
    status, data = live.request('POST', '/api/postes/999/message/', {'message': 'x'}, token=staff_token(live))
    assert status == 404
    status, _ = live.request('POST', '/api/postes/message/', {'message': 'x'})
    assert status == 401


def test_commands_reach_the_kiosk_and_refuse_what_they_must(running):
    live, poste, ws = running.server, running.poste, running.ws
    url = f'/api/postes/{poste["id"]}/commande/'
    token = staff_token(live)
    for commande in ('redemarrer', 'eteindre'):
        status, data = live.request('POST', url, {'commande': commande}, token=token)
        assert status == 409 and 'force' in data['detail']
    status, data = live.request('POST', url, {'commande': 'danser'}, token=token)
    assert status == 400 and 'commande' in data['errors']
    status, data = live.request('POST', url, {'commande': 'reveiller'}, token=token)
    assert status == 409 and 'MAC' in data['detail']
    # Lock: the running session is paused, the kiosk locks.
    start = time.monotonic()
    assert live.api('POST', url, {'commande': 'verrouiller'}, expect=200)['commande'] == 'verrouiller'
    assert recv_action(ws, 'paused', timeout=1)['temps_restant'] > 0
    assert recv_action(ws, 'command', timeout=1) == {'action': 'command', 'commande': 'verrouiller'}
    assert ms_since(start) < 1000
    assert live.api('GET', f'/api/sessions/{running.session["id"]}/')['statut'] == 'suspendue'
    # Forced restart: the session ends first, then the kiosk restarts.
    live.api('POST', url, {'commande': 'redemarrer', 'force': True}, expect=200)
    assert recv_action(ws, 'close_session', timeout=1)['raison'] == 'fermeture_staff'
    assert recv_action(ws, 'command', timeout=1)['commande'] == 'redemarrer'
    assert live.api('GET', f'/api/sessions/{running.session["id"]}/')['statut'] == 'terminee'
    live.api('POST', url, {'commande': 'eteindre'}, expect=200)   # no session now: no force needed
    assert recv_action(ws, 'command', timeout=1)['commande'] == 'eteindre'
    logs = live.api('GET', f'/api/logs/?action=commande_poste&poste={poste["id"]}')['results']
    assert [entry['metadata']['commande'] for entry in logs] == ['eteindre', 'redemarrer', 'verrouiller']
    # A poste whose kiosk never connected: 409.
    other = live.make_poste('Poste 2', '10.0.0.12')
    status, data = live.request('POST', f'/api/postes/{other["id"]}/commande/', {'commande': 'verrouiller'},
                                token=token)
    assert status == 409 and 'pas connecté' in data['detail']


def test_wake_on_lan_sends_the_magic_packet_to_wol_address(live_server):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(('127.0.0.1', 0))
    receiver.settimeout(2)
    server = live_server(WOL_ADDRESS=f'127.0.0.1:{receiver.getsockname()[1]}')
    poste = server.api('POST', '/api/postes/', {'nom': 'Poste 1', 'ip_address': '10.0.0.11',
                                                'mac_address': 'aa-bb-cc-dd-ee-0f'}, expect=201)
    answer = server.api('POST', f'/api/postes/{poste["id"]}/commande/', {'commande': 'reveiller'}, expect=200)
    assert answer == {'poste': poste['id'], 'commande': 'reveiller', 'envoye': True}
    packet, _ = receiver.recvfrom(1024)
    assert packet == b'\xff' * 6 + bytes.fromhex('aabbccddee0f') * 16
    receiver.close()
    log = server.api('GET', '/api/logs/?action=commande_poste')['results'][0]
    assert log['metadata']['commande'] == 'reveiller' and log['metadata']['mac'] == 'AA:BB:CC:DD:EE:0F'


def test_pause_and_resume_from_staff_and_kiosk(running):
    live, ws, session = running.server, running.ws, running.session
    token = staff_token(live)
    start = time.monotonic()
    paused = live.api('POST', f'/api/sessions/{session["id"]}/pause/', expect=200)
    assert paused['statut'] == 'suspendue' and paused['pause_debut']
    assert recv_action(ws, 'paused', timeout=1)['temps_restant'] == paused['temps_restant']
    assert ms_since(start) < 1000
    time.sleep(1.5)                                # the time does not move while paused
    assert live.api('GET', f'/api/sessions/{session["id"]}/')['temps_restant'] == paused['temps_restant']
    status, data = live.request('POST', f'/api/sessions/{session["id"]}/pause/', token=token)
    assert status == 409
    ws.send(json.dumps({'type': 'resume', 'code': 'ZZZZZZ'}))
    assert recv_action(ws, 'code_invalid', timeout=1)['detail'] == 'Ce n’est pas le code de cette session.'
    ws.send(json.dumps({'type': 'resume', 'code': session['code_acces']}))
    assert recv_action(ws, 'resumed', timeout=1)['temps_restant'] == paused['temps_restant']
    ws.send(json.dumps({'type': 'pause'}))
    assert recv_action(ws, 'paused', timeout=1)
    live.api('POST', f'/api/sessions/{session["id"]}/reprise/', expect=200)
    assert recv_action(ws, 'resumed', timeout=1)
    status, data = live.request('POST', f'/api/sessions/{session["id"]}/reprise/', token=token)
    assert status == 409 and data['detail'] == 'Cette session n’est pas en pause.'
    actions = [e['action'] for e in live.api('GET', f'/api/logs/?session={session["id"]}')['results']]
    assert actions.count('pause_session') == 2 and actions.count('reprise_session') == 2
    # A session not running cannot be paused; an unknown one is 404.
    waiting = live.make_session(None, duree=600, nom='Autre')
    assert live.request('POST', f'/api/sessions/{waiting["id"]}/pause/', token=token)[0] == 409
    assert live.request('POST', '/api/sessions/99999/pause/', token=token)[0] == 404


def test_an_abandoned_pause_ends_on_time(live_server):
    live = live_server(PAUSE_MAX='2')
    running = start_running_session(live)
    running.send({'type': 'pause'})
    recv_action(running.ws, 'paused', timeout=1)
    start = time.monotonic()
    closed = recv_action(running.ws, 'close_session', timeout=4)
    assert closed['raison'] == 'pause_expiree' and 1.5 < time.monotonic() - start < 3.2
    session = live.api('GET', f'/api/sessions/{running.session["id"]}/')
    assert session['statut'] == 'expiree' and session['raison_fin'] == 'pause_expiree'
    assert live.api('GET', f'/api/postes/{running.poste["id"]}/')['statut'] == 'disponible'


def pending_demande(feed):
    return recv_first(feed, lambda m: m.get('event') == 'demande' and m['demande']['statut'] == 'en_attente',
                      timeout=2)['demande']


def test_time_requests_from_the_kiosk(running):
    live, ws, poste = running.server, running.ws, running.poste
    token = staff_token(live)
    feed = ws_connect(live.ws_url(f'/ws/staff/?token={token}'))
    recv_json(feed)                                     # hello
    for seconds in (59, 3601, 'dix', None, True):
        running.send({'type': 'request_time', 'seconds': seconds})
        reply = recv_action(ws, 'error', timeout=1)
        assert reply['type'] == 'request_time' and 'minutes' in reply['detail']
    running.send({'type': 'request_time', 'seconds': 600})   # nobody waits: granted at once
    added = recv_action(ws, 'add_time', timeout=1)
    assert added['seconds'] == 600 and added['temps_restant'] > 1800
    assert recv_event(feed, 'demande')['demande']['statut'] == 'acceptee'
    live.make_session(None, duree=600, nom='Patient')        # someone waits now
    running.send({'type': 'request_time', 'seconds': 300})
    assert recv_action(ws, 'request_pending', timeout=1) == {'action': 'request_pending', 'seconds': 300}
    demande = recv_event(feed, 'demande')['demande']
    assert demande['statut'] == 'en_attente' and demande['poste'] == poste['id'] and demande['seconds'] == 300
    running.send({'type': 'request_time', 'seconds': 300})   # one pending per session
    assert 'déjà en attente' in recv_action(ws, 'error', timeout=1)['detail']
    listed = live.api('GET', '/api/demandes/')
    assert listed['count'] == 1
    assert {k: listed['results'][0][k] for k in ('id', 'session', 'poste', 'poste_nom', 'utilisateur_nom',
                                                  'seconds')} == {
        'id': demande['id'], 'session': running.session['id'], 'poste': poste['id'], 'poste_nom': 'Poste 1',
        'utilisateur_nom': 'Claire Durand', 'seconds': 300}
    status, data = live.request('POST', f'/api/demandes/{demande["id"]}/accepter/', {'seconds': 10}, token=token)
    assert status == 400 and 'seconds' in data['errors']
    accepted = live.api('POST', f'/api/demandes/{demande["id"]}/accepter/', {}, expect=200)
    assert accepted['statut'] == 'acceptee'
    assert recv_action(ws, 'add_time', timeout=1)['seconds'] == 300
    assert live.request('POST', f'/api/demandes/{demande["id"]}/refuser/', {}, token=token)[0] == 409
    running.send({'type': 'request_time', 'seconds': 900})
    pending = pending_demande(feed)
    assert recv_action(ws, 'request_pending', timeout=1)['seconds'] == 900
    live.api('POST', f'/api/demandes/{pending["id"]}/refuser/', {'motif': 'La salle est complète.'}, expect=200)
    assert recv_action(ws, 'request_refused', timeout=1) == {'action': 'request_refused',
                                                             'motif': 'La salle est complète.'}
    assert live.api('GET', '/api/demandes/')['count'] == 0
    assert live.request('POST', '/api/demandes/9999/accepter/', {}, token=token)[0] == 404
    assert live.request('GET', '/api/demandes/')[0] == 401
    # A request ends with its session.
    running.send({'type': 'request_time', 'seconds': 120})
    pending = pending_demande(feed)
    recv_action(ws, 'request_pending', timeout=1)
    running.send({'type': 'end_session'})
    assert recv_action(ws, 'close_session', timeout=1)['raison'] == 'fermeture_utilisateur'
    closed = recv_event(feed, 'demande')['demande']
    assert (closed['id'], closed['statut']) == (pending['id'], 'close')
    assert live.api('GET', '/api/demandes/')['count'] == 0
    running.send({'type': 'request_time', 'seconds': 120})    # no session now
    assert recv_action(ws, 'error', timeout=1)['detail'] == 'Aucune session en cours sur ce poste.'
    logs = live.api('GET', '/api/logs/?action=demande_temps')['results']
    assert len(logs) >= 5 and all(entry['session'] == running.session['id'] for entry in logs)
    feed.close()


def test_inactivity_is_sent_to_kiosks_and_ends_the_session(live_server):
    live = live_server(INACTIVITY_TIMEOUT='300')
    poste = live.make_poste()
    ws, sync = kiosk(live, poste)
    assert sync['inactivite'] == 300
    session = live.make_session(poste['id'])
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    assert recv_action(ws, 'session_started')['inactivite'] == 300
    ws.send(json.dumps({'type': 'end_session', 'raison': 'inactivite'}))
    assert recv_action(ws, 'close_session', timeout=1)['raison'] == 'inactivite'
    ended = live.api('GET', f'/api/sessions/{session["id"]}/')
    assert ended['statut'] == 'terminee' and ended['raison_fin'] == 'inactivite'


def test_the_staff_feed_carries_every_control_event(running):
    live = running.server
    feed = ws_connect(live.ws_url(f'/ws/staff/?token={staff_token(live)}'))
    recv_json(feed)
    live.api('POST', f'/api/postes/{running.poste["id"]}/message/', {'message': 'Bonjour'}, expect=200)
    assert recv_event(feed, 'log')['log']['action'] == 'message_poste'
    live.api('POST', f'/api/sessions/{running.session["id"]}/pause/', expect=200)
    assert recv_event(feed, 'session')['session']['statut'] == 'suspendue'
    feed.close()


# -- several processes on one PostgreSQL database ------------------------------------------------

@pytest.mark.skipif(support.postgres_url() is None, reason='several processes need PostgreSQL (DATABASE_URL)')
def test_control_crosses_processes_and_an_abandoned_pause_ends_once(live_server):
    a = live_server(PAUSE_MAX='2')
    b = live_server(share=a, PAUSE_MAX='2')
    c = live_server(share=a, PAUSE_MAX='2')
    poste = a.make_poste()
    session = a.make_session(poste['id'], duree=1800)
    ws, _ = kiosk(b, poste)                                   # the kiosk is connected to B
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    recv_action(ws, 'session_started')
    a.api('POST', f'/api/postes/{poste["id"]}/message/', {'message': 'Par A'}, expect=200)
    assert recv_action(ws, 'message', timeout=1)['message'] == 'Par A'
    c.api('POST', f'/api/sessions/{session["id"]}/pause/', expect=200)   # paused through C
    assert recv_action(ws, 'paused', timeout=1)
    a.kill()                                                  # the process that made the session dies
    closed = recv_action(ws, 'close_session', timeout=4)
    assert closed['raison'] == 'pause_expiree'
    assert nothing_within(ws, 1.5)                            # once
    ended = [e for e in b.api('GET', f'/api/logs/?session={session["id"]}')['results'] if e['action'] == 'expiration']
    assert len(ended) == 1 and ended[0]['metadata'] == {'raison': 'pause_expiree'}
