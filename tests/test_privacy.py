"""Privacy and legal requests (docs/rgpd.md): the audit log's hash chain, erasure and access,
retention, requisitions, the charter, minors. In-process, on the injected clock, both engines."""
import base64
import csv
import hashlib
import io
import json
import os
from datetime import timedelta

import pytest
from playhouse.migrations import Runner

from appliance import audit, auditchain, db
from appliance.models import Log, Session, Utilisateur
from tests import support
from tests.test_backup import restore_archive, take_backup
from tests.test_utilisateurs import png_bytes, upload


@pytest.fixture
def world(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    alice = client.make_visitor(staff_token, date_naissance='1990-05-04', type_piece_identite='cni',
                                piece_identite_verifiee=True, telephone='0612345678', adresse='1 rue de la Paix')
    return {'poste': poste, 'alice': alice}


def run_session(client, token, visitor, poste, **validate):
    session = client.make_session(token, visitor['id'], poste['id'])
    started = client.post('/api/sessions/validate-code/', {'code': session['code_acces'], **validate},
                          headers={'X-Poste-Token': poste['kiosk_token']})
    return session, started


def header(response, name):
    return {k.lower(): v for k, v in response.headers.items()}[name.lower()]


def sql(statement, params=()):
    with db.database.connection_context():
        db.database.execute_sql(statement, params)


def recent_visitor(ctx):
    with db.database.connection_context():
        ctx.desk.create_visitor({'nom': 'Récent', 'prenom': 'Paul', 'email': 'paul@example.org',
                                 'consentement_rgpd': True}, operateur=None, ip=None)


def verify():
    return auditchain.verify()


# -- the hash chain ------------------------------------------------------------------------------

def test_every_entry_is_chained_to_the_previous_one(client, world, admin_token):
    with db.database.connection_context():
        entries = list(Log.select().order_by(Log.id))
    assert len(entries) >= 3
    previous = ''
    for entry in entries:
        assert len(entry.empreinte) == 64
        values = [getattr(entry, name) for name in auditchain.CONTENT]
        assert entry.empreinte == hashlib.sha256(
            previous.encode() + b'\n' + auditchain.canonical(values)).hexdigest()
        previous = entry.empreinte
    response = client.get('/api/logs/verification/', token=admin_token)
    assert response.status == 200 and response.json == {'ok': True, 'entrees': len(entries)}


@pytest.mark.parametrize('column, value', [
    ('details', 'Rien à signaler.'), ('utilisateur_nom', 'Quelqu’un d’autre'), ('operateur', 'intrus'),
    ('created_at', '2020-01-01 00:00:00'), ('metadata', '{"champs": []}'), ('ip_address', '10.6.6.6'),
])
def test_an_edited_entry_is_found(client, world, admin_token, column, value):
    with db.database.connection_context():
        target = Log.select().where(Log.action == 'creation_utilisateur').get()
    sql(f'UPDATE log SET {column} = %s WHERE id = %s'.replace('%s', '?' if db.is_sqlite() else '%s'),
        (value, target.id))
    response = client.get('/api/logs/verification/', token=admin_token)
    assert response.status == 200 and response.json == {'ok': False, 'premiere_alteree': target.id}
    health = client.get('/api/health/')
    assert health.status == 503 and health.json['journal'] == 'altere'
    assert health.json['journal_premiere_alteree'] == target.id
    metrics = client.get('/metrics', token=admin_token).body.decode()
    assert 'poste_public_audit_chain_ok 0' in metrics


def test_a_recomputed_empreinte_or_a_deleted_entry_is_found_at_the_next(client, world, admin_token):
    with db.database.connection_context():
        first, second, third = list(Log.select().order_by(Log.id).limit(3))
    forged = auditchain.link(first.empreinte, [second.id, 'connexion_staff', 'x', None, '', None, None,
                                               '', '', '{}', None, second.site, second.created_at])
    p = '?' if db.is_sqlite() else '%s'
    sql(f"UPDATE log SET action = 'connexion_staff', operateur = 'x', utilisateur = NULL, utilisateur_nom = '', "
        f"poste = NULL, poste_nom = '', details = '', metadata = '{{}}', ip_address = NULL, empreinte = {p} "
        f"WHERE id = {p}", (forged, second.id))
    assert verify() == {'ok': False, 'premiere_alteree': third.id}
    sql(f'DELETE FROM log WHERE id = {p}', (second.id,))
    assert verify() == {'ok': False, 'premiere_alteree': third.id}


def test_verification_is_for_admins(client, world, staff_token):
    assert client.get('/api/logs/verification/', token=staff_token).status == 403
    assert client.get('/api/logs/verification/').status == 401


def test_a_purge_keeps_the_chain_verifiable(client, ctx, world, admin_token):
    ctx.clock.advance(400 * 86400)   # (tokens made now would be refused: later than the real time)
    recent_visitor(ctx)
    with db.database.connection_context():
        old = Log.select().where(Log.created_at < ctx.clock.now() - timedelta(days=365)).count()
        kept_first = Log.select().where(Log.created_at >= ctx.clock.now() - timedelta(days=365)).order_by(Log.id).first()
        deleted = audit.purge(ctx.clock.now() - timedelta(days=365), now=ctx.clock.now())
        assert deleted == old > 0
        anchor = auditchain.anchor()
        assert anchor and Log.select().order_by(Log.id).first().id == kept_first.id
    assert verify() == {'ok': True, 'entrees': len(support.log_actions())}
    # The anchor is the deleted predecessor's empreinte: change it and the first kept entry fails.
    p = '?' if db.is_sqlite() else '%s'
    sql(f"UPDATE state SET value = {p} WHERE key = {p}", ('0' * 64, auditchain.ANCHOR_KEY))
    assert verify() == {'ok': False, 'premiere_alteree': kept_first.id}


def test_entries_written_in_one_transaction_are_chained_in_order(ctx):
    now = ctx.clock.now()
    with db.database.connection_context():
        with db.writing():
            for i in range(5):
                audit.record('purge', now=now, details=f'n° {i}')
        assert [e.details for e in Log.select().order_by(Log.id)] == [f'n° {i}' for i in range(5)]
    assert verify() == {'ok': True, 'entrees': 5}


def test_verification_yields_between_batches(client, world):
    pauses = []
    with db.database.connection_context():
        total = Log.select().count()
    assert auditchain.verify(batch=2, pause=lambda: pauses.append(1)) == {'ok': True, 'entrees': total}
    assert len(pauses) == (total + 1) // 2


def test_migration_chains_the_entries_already_written(tmp_path):
    """An older database (or an older archive, restored through the same migrations) gets its
    existing entries chained by 0005_privacy."""
    name = f'mig{os.getpid()}'
    url = support.database_url(name, tmp_path)
    previous = db.database.obj
    db.bind(url)
    try:
        with db.database.connection_context():
            runner = Runner(db.database.obj, db.MIGRATIONS_DIR)
            runner.up('0001_initial')
            for i in range(3):
                db.database.execute_sql(
                    "INSERT INTO log (action, operateur, utilisateur_nom, poste_nom, details, metadata, created_at) "
                    "VALUES ('purge', 'système', '', '', 'ancienne entrée', '{}', '2025-02-03 04:05:06.000007')")
            runner.up()
        assert auditchain.verify() == {'ok': True, 'entrees': 3}
    finally:
        db.database.initialize(previous)
        support.drop_schema(name)


def test_a_backup_carries_the_chain_and_restores_it_intact(client, ctx, world, admin_token):
    ctx.clock.advance(400 * 86400)   # (tokens made now would be refused: later than the real time)
    recent_visitor(ctx)
    with db.database.connection_context():
        audit.purge(ctx.clock.now() - timedelta(days=365), now=ctx.clock.now())
        anchor = auditchain.anchor()
    before = verify()
    assert before['ok']
    result = take_backup(ctx)
    recent_visitor(ctx)
    restore_archive(ctx, result.path)
    with db.database.connection_context():
        assert auditchain.anchor() == anchor
    after = verify()
    assert after['ok'] and after['entrees'] == before['entrees'] + 1   # the restore's own entry
    assert support.log_actions()[-1] == 'restauration'


# -- erasure and access --------------------------------------------------------------------------

def test_anonymise_empties_the_record_and_deletes_the_photo(client, ctx, world, admin_token):
    alice = world['alice']
    assert upload(client, admin_token, alice['id'], png_bytes()).status == 200
    with db.database.connection_context():
        photo = Utilisateur.get_by_id(alice['id']).photo
    assert os.path.exists(os.path.join(ctx.config.photos_dir, photo))
    response = client.post(f'/api/utilisateurs/{alice["id"]}/anonymiser/', token=admin_token)
    assert response.status == 200, response
    u = response.json
    assert u['id'] == alice['id'] and u['nom'] == 'Anonyme' and u['prenom'] == ''
    assert (u['email'], u['telephone'], u['adresse'], u['date_naissance'], u['type_piece_identite'],
            u['numero_piece_identite'], u['notes'], u['photo']) == ('', '', '', None, None, '', '', None)
    assert u['piece_identite_verifiee'] is False and u['anonymise_le'] == '2026-01-05T09:00:00+00:00'
    assert not os.path.exists(os.path.join(ctx.config.photos_dir, photo))
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'anonymisation_utilisateur').get()
    # The audit log keeps the name (connection data kept one year by law).
    assert entry.utilisateur == alice['id'] and entry.utilisateur_nom == 'Alice Martin'
    assert entry.operateur == 'admin' and entry.metadata_dict == {'raison': 'demande'}
    assert verify()['ok']
    # Nothing of the person is left to search by, not even in the search index.
    for word in ('martin', 'alice', '0612345678'):
        assert client.get(f'/api/utilisateurs/?search={word}', token=admin_token).json['count'] == 0, word
    with db.database.connection_context():
        assert 'martin' not in Utilisateur.get_by_id(alice['id']).recherche


def test_anonymise_is_refused_while_a_session_is_open(client, world, admin_token, staff_token):
    session = client.make_session(staff_token, world['alice']['id'], world['poste']['id'])
    response = client.post(f'/api/utilisateurs/{world["alice"]["id"]}/anonymiser/', token=admin_token)
    assert response.status == 409 and 'session' in response.json['detail']
    assert client.get(f'/api/utilisateurs/{world["alice"]["id"]}/', token=staff_token).json['nom'] == 'Martin'
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    assert client.post(f'/api/utilisateurs/{world["alice"]["id"]}/anonymiser/', token=admin_token).status == 200


def test_anonymise_and_export_are_for_admins(client, world, staff_token):
    uid = world['alice']['id']
    assert client.post(f'/api/utilisateurs/{uid}/anonymiser/', token=staff_token).status == 403
    assert client.get(f'/api/utilisateurs/{uid}/export/', token=staff_token).status == 403
    assert client.post(f'/api/utilisateurs/{uid}/anonymiser/').status == 401


def test_unknown_visitor_is_404(client, admin_token):
    for method, path in (('POST', '/api/utilisateurs/999999/anonymiser/'), ('GET', '/api/utilisateurs/999999/export/')):
        response = client.request(method, path, token=admin_token)
        assert response.status == 404 and response.json['detail'] == 'Visiteur introuvable.'
    # Ids are digits in the rules (`<uid:re:[0-9]+>`): anything else is a path that does not exist.
    response = client.request('POST', '/api/utilisateurs/abc/anonymiser/', token=admin_token)
    assert response.status == 404 and response.json['detail'] == 'Introuvable.'


def test_export_holds_everything_about_the_person(client, ctx, world, admin_token, staff_token):
    alice = world['alice']
    data = png_bytes(padding=10)
    assert upload(client, staff_token, alice['id'], data).status == 200
    session, started = run_session(client, staff_token, alice, world['poste'])
    assert started.status == 200
    response = client.get(f'/api/utilisateurs/{alice["id"]}/export/', token=admin_token)
    assert response.status == 200
    assert header(response, 'Content-Type').startswith('application/json')
    assert header(response, 'Content-Disposition') == f'attachment; filename="donnees-visiteur-{alice["id"]}.json"'
    export = response.json
    assert export['utilisateur']['nom'] == 'Martin' and export['utilisateur']['date_naissance'] == '1990-05-04'
    assert export['utilisateur']['adresse'] == '1 rue de la Paix'
    assert [s['id'] for s in export['sessions']] == [session['id']]
    assert export['sessions'][0]['statut'] == 'active'
    actions = [e['action'] for e in export['journal']]
    assert {'creation_utilisateur', 'modification_utilisateur', 'generation_code', 'demarrage_session'} <= set(actions)
    assert all(e['utilisateur'] == alice['id'] for e in export['journal'])
    assert export['photo'] == {'type': 'image/png', 'base64': base64.b64encode(data).decode()}
    assert support.log_actions()[-1] == 'export_donnees'


# -- retention -----------------------------------------------------------------------------------

def test_retention_deletes_old_sessions_and_anonymises_idle_visitors(client, ctx, world, admin_token, staff_token):
    alice, poste = world['alice'], world['poste']
    session, _ = run_session(client, staff_token, alice, poste)
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    assert upload(client, staff_token, alice['id'], png_bytes()).status == 200
    ctx.clock.advance(200 * 86400)
    staff_token = client.login('bibliothecaire')
    bob = client.make_visitor(staff_token, nom='Durand', prenom='Bob')   # recent: kept
    ctx.clock.advance(170 * 86400)   # alice's session ended 370 days ago, bob registered 170 days ago
    with db.database.connection_context():
        done = ctx.desk.apply_retention()
    assert done['sessions_supprimees'] == 1 and done['visiteurs_anonymises'] == 1
    with db.database.connection_context():
        assert not Session.select().where(Session.id == session['id']).exists()
        assert Utilisateur.get_by_id(alice['id']).nom == 'Anonyme'
        assert Utilisateur.get_by_id(bob['id']).nom == 'Durand'
        assert not os.listdir(ctx.config.photos_dir)
        purge = Log.select().where(Log.action == 'purge').order_by(Log.id.desc()).get()
        assert purge.metadata_dict['sessions_supprimees'] == 1 and 'anonymisé' in purge.details
        reason = Log.select().where(Log.action == 'anonymisation_utilisateur').get().metadata_dict
        assert reason == {'raison': 'retention'}
    # Done once: the next run finds nothing more.
    with db.database.connection_context():
        assert ctx.desk.apply_retention()['visiteurs_anonymises'] == 0
    assert verify()['ok']


def test_retention_spares_a_visitor_with_an_open_code(client, ctx, world, staff_token):
    client.make_session(staff_token, world['alice']['id'], world['poste']['id'])
    with db.database.connection_context():
        Utilisateur.update(created_at=ctx.clock.now() - timedelta(days=800)).execute()
        assert ctx.desk.apply_retention()['visiteurs_anonymises'] == 0


def test_retention_settings_are_read_and_checked(tmp_path):
    config = support.make_config(tmp_path, SESSION_RETENTION_DAYS=30, VISITOR_RETENTION_DAYS=90, AGE_CONSENTEMENT=16)
    assert (config.session_retention_days, config.visitor_retention_days, config.age_consentement) == (30, 90, 16)
    default = support.make_config(tmp_path)
    assert (default.session_retention_days, default.visitor_retention_days, default.age_consentement) == (365, 365, 15)
    from appliance.config import ConfigError
    for name, value in (('SESSION_RETENTION_DAYS', 'un an'), ('VISITOR_RETENTION_DAYS', '0'), ('AGE_CONSENTEMENT', '-1')):
        with pytest.raises(ConfigError, match=name):
            support.make_config(tmp_path, **{name: value})


# -- requisitions --------------------------------------------------------------------------------

def requisition(client, token, **params):
    return client.get('/api/requisitions/', query=params, token=token)


def test_requisition_csv_with_its_hash(client, ctx, world, admin_token, staff_token):
    alice, poste = world['alice'], world['poste']
    client.patch(f'/api/postes/{poste["id"]}/', {'mac_address': 'aa-bb-cc-dd-ee-ff'}, token=admin_token)
    session, _ = run_session(client, staff_token, alice, poste)
    ctx.clock.advance(600)
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    evil = client.make_visitor(staff_token, nom='=HYPERLINK("http://x")', prenom='+Eve')
    run_session(client, staff_token, evil, poste)
    response = requisition(client, admin_token, motif='PV 2026/123', debut='2026-01-05', fin='2026-01-05')
    assert response.status == 200, response
    assert header(response, 'Content-Type') == 'text/csv; charset=utf-8'
    assert header(response, 'X-Content-SHA256') == hashlib.sha256(response.body).hexdigest()
    assert response.body.startswith(b'\xef\xbb\xbf')
    rows = list(csv.reader(io.StringIO(response.body.decode('utf-8-sig')), delimiter=';'))
    assert rows[0] == ['session', 'poste', 'adresse_ip', 'adresse_mac', 'debut', 'fin', 'visiteur',
                       'date_naissance', 'type_piece_identite', 'piece_identite_verifiee', 'operateur']
    assert rows[1] == [str(session['id']), 'Poste 1', '192.168.1.11', 'AA:BB:CC:DD:EE:FF',
                       '2026-01-05T09:00:00+00:00', '2026-01-05T09:10:00+00:00', 'Alice Martin', '1990-05-04',
                       'cni', 'oui', 'bibliothecaire']
    assert rows[2][6] == '\'+Eve =HYPERLINK("http://x")' and rows[2][5] == ''   # still running
    assert len(rows) == 3 and b'\r\n' in response.body
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'requisition').get()
    assert entry.operateur == 'admin' and 'PV 2026/123' in entry.details
    assert entry.metadata_dict == {'motif': 'PV 2026/123', 'debut': '2026-01-05T00:00:00+00:00',
                                   'fin': '2026-01-05T23:59:59.999999+00:00', 'poste': None,
                                   'utilisateur': None, 'lignes': 2}


def test_requisition_filters_by_poste_person_and_period(client, ctx, world, admin_token, staff_token):
    alice, poste = world['alice'], world['poste']
    other = client.make_poste(admin_token, nom='Poste 2', ip='192.168.1.12')
    bob = client.make_visitor(staff_token, nom='Durand', prenom='Bob')
    s1, _ = run_session(client, staff_token, alice, poste)
    s2, _ = run_session(client, staff_token, bob, other)
    common = {'motif': 'R-1', 'debut': '2026-01-05T08:00:00', 'fin': '2026-01-05T10:00:00', 'format': 'json'}
    every = requisition(client, admin_token, **common).json
    assert [r['session'] for r in every['results']] == [s1['id'], s2['id']] and every['count'] == 2
    by_poste = requisition(client, admin_token, poste=other['id'], **common)
    assert [r['session'] for r in by_poste.json['results']] == [s2['id']]
    assert header(by_poste, 'X-Content-SHA256') == hashlib.sha256(by_poste.body).hexdigest()
    by_person = requisition(client, admin_token, utilisateur=alice['id'], **common).json
    assert [r['session'] for r in by_person['results']] == [s1['id']]
    before = requisition(client, admin_token, **{**common, 'debut': '2026-01-04', 'fin': '2026-01-05T08:59:59'}).json
    assert before['results'] == []
    # An anonymised visitor is still named from the audit log, kept one year by law.
    client.post(f'/api/sessions/{s1["id"]}/terminate/', {}, token=staff_token)
    client.post(f'/api/utilisateurs/{alice["id"]}/anonymiser/', token=admin_token)
    named = requisition(client, admin_token, utilisateur=alice['id'], **common).json['results'][0]
    assert named['visiteur'] == 'Alice Martin' and named['date_naissance'] == ''


@pytest.mark.parametrize('params, fields', [
    ({'debut': '2026-01-01', 'fin': '2026-01-31'}, {'motif'}),
    ({'motif': '   ', 'debut': '2026-01-01', 'fin': '2026-01-31'}, {'motif'}),
    ({'motif': 'R'}, {'debut', 'fin'}),
    ({'motif': 'R', 'debut': 'hier', 'fin': '2026-13-01'}, {'debut', 'fin'}),
    ({'motif': 'R', 'debut': '2026-02-01', 'fin': '2026-01-01'}, {'fin'}),
    ({'motif': 'R', 'debut': '2026-01-01', 'fin': '2026-01-31', 'poste': '999999'}, {'poste'}),
    ({'motif': 'R', 'debut': '2026-01-01', 'fin': '2026-01-31', 'utilisateur': 'abc'}, {'utilisateur'}),
    ({'motif': 'R', 'debut': '2026-01-01', 'fin': '2026-01-31', 'format': 'xlsx'}, {'format'}),
    ({'motif': 'R' * 201, 'debut': '2026-01-01', 'fin': '2026-01-31'}, {'motif'}),
])
def test_requisition_refuses_bad_parameters(client, world, admin_token, params, fields):
    response = requisition(client, admin_token, **params)
    assert response.status == 400 and set(response.json['errors']) == fields, response
    assert 'requisition' not in support.log_actions()


def test_requisition_refuses_a_nul_character(client, world, admin_token):
    response = requisition(client, admin_token, motif='R\x00', debut='2026-01-01', fin='2026-01-31')
    assert response.status == 400 and response.json['detail']
    assert 'requisition' not in support.log_actions()


def test_requisition_is_for_admins(client, world, staff_token):
    params = {'motif': 'R', 'debut': '2026-01-01', 'fin': '2026-01-31'}
    assert requisition(client, staff_token, **params).status == 403
    assert client.get('/api/requisitions/', query=params).status == 401


# -- the charter ---------------------------------------------------------------------------------

def test_charter_versions(client, admin_token, staff_token):
    assert client.get('/api/charte/', token=staff_token).json == {'version': 0, 'texte': '', 'operateur': '',
                                                                  'modifiee_le': None}
    first = client.put('/api/charte/', {'texte': 'Respectez le matériel.'}, token=admin_token)
    assert first.status == 200 and first.json['version'] == 1 and first.json['operateur'] == 'admin'
    second = client.put('/api/charte/', {'texte': 'Respectez le matériel et les autres.'}, token=admin_token)
    assert second.json['version'] == 2
    shown = client.get('/api/charte/', token=staff_token).json
    assert shown['version'] == 2 and shown['texte'] == 'Respectez le matériel et les autres.'
    assert support.log_actions(action='modification_charte') == ['modification_charte'] * 2
    assert client.put('/api/charte/', {'texte': 'x'}, token=staff_token).status == 403
    assert client.get('/api/charte/').status == 401
    for body, field in (({}, 'texte'), ({'texte': 5}, 'texte'), ({'texte': 'a\x00'}, 'texte'),
                        ({'texte': 'x' * 20001}, 'texte')):
        response = client.put('/api/charte/', body, token=admin_token)
        assert response.status == 400 and field in response.json['errors'], response


def test_the_charter_is_required_once_then_remembered(client, world, admin_token, staff_token):
    client.put('/api/charte/', {'texte': 'Charte v1'}, token=admin_token)
    alice, poste = world['alice'], world['poste']
    session, answer = run_session(client, staff_token, alice, poste)
    assert answer.status == 200
    assert answer.json == {'valid': True, 'charte_requise': {'version': 1, 'texte': 'Charte v1'}}
    with db.database.connection_context():
        assert Session.get_by_id(session['id']).statut == 'en_attente'
    wrong = client.post('/api/sessions/validate-code/', {'code': session['code_acces'], 'charte_version': 7},
                        headers={'X-Poste-Token': poste['kiosk_token']})
    assert wrong.status == 409 and wrong.json['valid'] is False
    accepted = client.post('/api/sessions/validate-code/', {'code': session['code_acces'], 'charte_version': 1},
                           headers={'X-Poste-Token': poste['kiosk_token']})
    assert accepted.status == 200 and accepted.json['session']['statut'] == 'active'
    assert client.get(f'/api/utilisateurs/{alice["id"]}/', token=staff_token).json['charte_version'] == 1
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'acceptation_charte').get()
    assert entry.utilisateur == alice['id'] and entry.metadata_dict == {'version': 1}
    assert entry.poste == poste['id']
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    # Remembered: the next session starts at once.
    _, again = run_session(client, staff_token, alice, poste)
    assert again.json['valid'] is True and again.json['session']['statut'] == 'active'
    client.post(f'/api/sessions/{again.json["session"]["id"]}/terminate/', {}, token=staff_token)
    # A new version is asked again.
    client.put('/api/charte/', {'texte': 'Charte v2'}, token=admin_token)
    _, third = run_session(client, staff_token, alice, poste)
    assert third.json['charte_requise']['version'] == 2


def test_guests_accept_the_charter_every_time(client, world, admin_token, staff_token):
    client.put('/api/charte/', {'texte': 'Charte'}, token=admin_token)
    with db.database.connection_context():
        Utilisateur.update(is_guest=True).where(Utilisateur.id == world['alice']['id']).execute()
    for _ in range(2):
        session, answer = run_session(client, staff_token, world['alice'], world['poste'])
        assert 'charte_requise' in answer.json
        started = client.post('/api/sessions/validate-code/', {'code': session['code_acces'], 'charte_version': 1},
                              headers={'X-Poste-Token': world['poste']['kiosk_token']})
        assert started.json['session']['statut'] == 'active'
        client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    assert support.log_actions(action='acceptation_charte') == ['acceptation_charte'] * 2


def test_an_empty_charter_requires_nothing(client, world, admin_token, staff_token):
    client.put('/api/charte/', {'texte': ''}, token=admin_token)
    _, answer = run_session(client, staff_token, world['alice'], world['poste'])
    assert answer.json['session']['statut'] == 'active'


# -- minors --------------------------------------------------------------------------------------

def test_a_child_needs_parental_authorisation(client, ctx, world, staff_token):
    child = client.make_visitor(staff_token, nom='Petit', prenom='Léo', date_naissance='2013-06-01')   # 12
    assert child['autorisation_parentale'] is False
    refused = client.post('/api/sessions/', {'utilisateur': child['id'], 'duree_initiale': 3600}, token=staff_token)
    assert refused.status == 409 and 'autorisation parentale' in refused.json['detail']
    assert 'generation_code' not in support.log_actions(utilisateur=child['id'])
    patched = client.patch(f'/api/utilisateurs/{child["id"]}/', {'autorisation_parentale': True}, token=staff_token)
    assert patched.status == 200 and patched.json['autorisation_parentale'] is True
    assert client.post('/api/sessions/', {'utilisateur': child['id'], 'duree_initiale': 3600},
                       token=staff_token).status == 201
    assert client.patch(f'/api/utilisateurs/{child["id"]}/', {'autorisation_parentale': 'oui'},
                        token=staff_token).status == 400


def test_fifteen_is_old_enough(client, world, staff_token):
    # The injected clock says 2026-01-05: born 2011-01-05 is 15 today, born 2011-01-06 is not.
    teen = client.make_visitor(staff_token, nom='Ado', prenom='Max', date_naissance='2011-01-05')
    assert client.post('/api/sessions/', {'utilisateur': teen['id'], 'duree_initiale': 3600},
                       token=staff_token).status == 201
    younger = client.make_visitor(staff_token, nom='Ado', prenom='Lou', date_naissance='2011-01-06')
    assert client.post('/api/sessions/', {'utilisateur': younger['id'], 'duree_initiale': 3600},
                       token=staff_token).status == 409


def test_verify_log_result_is_json(client, world, admin_token):
    body = client.get('/api/logs/verification/', token=admin_token).body
    assert json.loads(body)['ok'] is True


# -- the nightly jobs ----------------------------------------------------------------------------

def test_the_nightly_purge_applies_the_retention_and_the_verification_is_scheduled(client, ctx, world, staff_token):
    import gevent

    from appliance.scheduler import Scheduler
    scheduler = Scheduler(ctx)
    assert scheduler.daily_jobs['verify-log'][0] == 4 and scheduler.daily_jobs['purge'][0] == 3
    with db.database.connection_context():
        Utilisateur.update(created_at=ctx.clock.now() - timedelta(days=400)).execute()
        scheduler.purge()
        assert Utilisateur.get_by_id(world['alice']['id']).nom == 'Anonyme'
        assert ctx.desk.last_retention()['visiteurs_anonymises'] == 1
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'creation_utilisateur').get()
    p = '?' if db.is_sqlite() else '%s'
    sql(f'UPDATE log SET details = {p} WHERE id = {p}', ('Autre.', entry.id))
    with db.database.connection_context():
        scheduler.verify_log()
    deadline = 50
    while 'verification_journal' not in support.log_actions() and deadline:
        gevent.sleep(0.05)
        deadline -= 1
    with db.database.connection_context():
        assert auditchain.last_result()['premiere_alteree'] == entry.id
        broken = Log.select().where(Log.action == 'verification_journal').get()
    assert f'n° {entry.id}' in broken.details and broken.operateur == 'système'
