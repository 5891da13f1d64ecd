"""The desk called directly, as REST, WebSocket and scheduler call it: exact times with the injected
clock, the facts it publishes (after the commit, never for a change rolled back), its refusals."""
import os

import pytest

from appliance import db, events
from appliance.errors import Conflict, Forbidden, NotFound
from appliance.models import Log, Poste
from appliance.protocol import normalise_code
from tests import support

ALL_FACTS = (events.POSTE_CHANGED, events.SESSION_CHANGED, events.LOG_WRITTEN, events.KIOSK_TOKEN_CHANGED,
             events.SESSION_STARTED, events.TIME_ADDED, events.WARNING_DUE, events.SESSION_ENDED)


@pytest.fixture
def facts(ctx):
    """Every fact published during the test, as (kind, payload)."""
    heard = []

    def listener(kind, payload):
        heard.append((kind, payload))
    events.subscribe(listener, *ALL_FACTS)
    yield heard
    events.unsubscribe(listener)


@pytest.fixture
def desk(ctx):
    with db.database.connection_context():
        yield ctx.desk


@pytest.fixture
def compte(ctx):
    return support.make_compte('bibliothecaire')


def kinds(facts, *wanted):
    return [(kind, payload) for kind, payload in facts if kind in wanted]


def new_poste(desk, compte, nom='Poste 1', ip='10.0.0.11'):
    return desk.create_poste({'nom': nom, 'ip_address': ip}, operateur=compte, ip='127.0.0.1')[0]


def new_visitor(desk, compte, nom='Martin'):
    return desk.create_visitor({'nom': nom, 'prenom': 'Alice', 'email': f'{nom.lower()}@example.org',
                                'consentement_rgpd': True}, operateur=compte, ip='127.0.0.1')


def test_a_session_from_code_to_expiry_on_the_injected_clock(ctx, desk, compte, facts):
    clock = ctx.clock
    poste = new_poste(desk, compte)
    session = desk.create_session(new_visitor(desk, compte), poste, 1800, operateur=compte, ip='127.0.0.1')
    desk.validate_code(session.code_acces.lower(), poste, source_ip='10.0.0.11')
    started = kinds(facts, events.SESSION_STARTED)
    assert [(p['poste_id'], p['session']['id'], p['temps_restant']) for _, p in started] == \
        [(poste.id, session.id, 1800)]

    clock.advance(1200)                    # 600 s left: the first warning is due, to the second
    desk.process_due([session.id])
    warned = kinds(facts, events.WARNING_DUE)
    assert [(p['seuil'], p['temps_restant'], p['message']) for _, p in warned] == \
        [(600, 600, 'Il vous reste 10 minutes.')]
    desk.process_due([session.id])         # nothing new is due: nothing is said twice
    assert len(kinds(facts, events.WARNING_DUE)) == 1

    clock.advance(599.5)                   # half a second before the end: still running
    desk.process_due([session.id])
    assert not kinds(facts, events.SESSION_ENDED)
    clock.advance(3)                       # a late sweep 2.5 s after the end
    ended = desk.process_due([session.id])[0]
    assert ended.statut == 'expiree' and ended.raison_fin == 'expiration'
    assert ended.fin_session == ended.fin_prevue   # never billed past the deadline
    assert [p for _, p in kinds(facts, events.SESSION_ENDED)] == \
        [{'poste_id': poste.id, 'session_id': session.id, 'raison': 'expiration'}]
    assert Poste.get_by_id(poste.id).statut == 'disponible'
    assert desk.poste_state(poste.id)[1] is None   # the room knows


def test_adding_time_re_arms_the_warnings_ahead(ctx, desk, compte, facts):
    poste = new_poste(desk, compte)
    session = desk.create_session(new_visitor(desk, compte), poste, 600, operateur=compte, ip='127.0.0.1')
    desk.validate_code(session.code_acces, poste, source_ip='10.0.0.11')
    ctx.clock.advance(360)                 # 240 s left: the 300 s warning is due
    desk.process_due([session.id])
    desk.add_time(session, 600, operateur=compte, ip='127.0.0.1')   # 840 s left
    added = kinds(facts, events.TIME_ADDED)
    assert [(p['seconds'], p['temps_restant']) for _, p in added] == [(600, 840)]
    ctx.clock.advance(240)                 # 600 s left: warned again at 10 minutes
    desk.process_due([session.id])
    assert [p['seuil'] for _, p in kinds(facts, events.WARNING_DUE)] == [300, 600]


def test_facts_come_after_the_commit_and_never_for_a_refused_change(desk, compte, facts):
    poste = new_poste(desk, compte)
    visitor = new_visitor(desk, compte)
    desk.create_session(visitor, poste, 900, operateur=compte, ip='127.0.0.1')
    facts.clear()
    logs_before = Log.select().count()
    with pytest.raises(Conflict):      # this visitor already has a code
        desk.create_session(visitor, None, 900, operateur=compte, ip='127.0.0.1')
    with pytest.raises(Conflict):      # and this poste already has one waiting
        desk.create_session(new_visitor(desk, compte, 'Durand'), poste, 900, operateur=compte, ip='127.0.0.1')
    assert [kind for kind, _ in facts if kind != events.LOG_WRITTEN] == []
    assert Log.select().count() == logs_before + 1   # only Durand's registration


def test_codes_are_typed_any_way_and_refused_clearly(desk, compte):
    assert normalise_code(' ab-c 23 4 ') == 'ABC234' and normalise_code('٣ABC') == 'ABC'
    poste, other = new_poste(desk, compte), new_poste(desk, compte, 'Poste 2', '10.0.0.12')
    session = desk.create_session(new_visitor(desk, compte), poste, 900, operateur=compte, ip='127.0.0.1')
    with pytest.raises(Forbidden):
        desk.validate_code(session.code_acces, other, source_ip='10.0.0.12')
    with pytest.raises(NotFound):
        desk.validate_code('ZZZZZZ', poste, source_ip='10.0.0.11')
    started = desk.validate_code(' ' + '-'.join(session.code_acces), poste, source_ip='10.0.0.11')
    assert started.statut == 'active'
    assert [e.action for e in Log.select().where(Log.action == 'echec_code')] == ['echec_code'] * 2


def test_presence_goes_online_once_and_offline_after_silence(ctx, desk, compte, facts):
    poste = new_poste(desk, compte)
    desk.kiosk_seen(poste)
    ctx.clock.advance(5)
    desk.kiosk_seen(poste)                 # a heartbeat: nothing written
    assert [e.action for e in Log.select().where(Log.poste == poste.id)] == ['creation_poste', 'connexion_poste']
    assert desk.silent_postes() == []
    ctx.clock.advance(ctx.config.heartbeat_timeout + 1)
    assert desk.silent_postes() == [poste.id]
    desk.kiosk_disconnected(poste.id)
    assert Poste.get_by_id(poste.id).statut == 'hors_ligne'
    maintenance = desk.set_poste_status(Poste.get_by_id(poste.id), 'maintenance', operateur=compte, ip=None)
    desk.kiosk_seen(maintenance)
    desk.kiosk_disconnected(poste.id)      # silence never overrides maintenance
    assert Poste.get_by_id(poste.id).statut == 'maintenance'


def test_a_visitor_with_a_code_cannot_be_deleted_and_photos_do_not_pile_up(ctx, desk, compte):
    visitor = new_visitor(desk, compte)
    png = b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + b'\x00' * 20 + b'IEND\xaeB`\x82'
    desk.set_photo(visitor, png, 'png', operateur=compte, ip=None)
    first = visitor.photo
    desk.set_photo(visitor, png, 'png', operateur=compte, ip=None)
    assert os.listdir(ctx.config.photos_dir) == [visitor.photo] and visitor.photo != first
    desk.create_session(visitor, None, 900, operateur=compte, ip=None)
    with pytest.raises(Conflict):
        desk.delete_visitor(visitor, operateur=compte, ip=None)
    assert os.listdir(ctx.config.photos_dir) == [visitor.photo]
