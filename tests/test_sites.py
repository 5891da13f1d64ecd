"""Sites: the branches of a network on one database (docs/api.md, docs/reseau.md). Admins manage
sites and see them all (`?site=`); staff see and act on their own site only (403 elsewhere);
statistics, the audit log and the staff feed follow the site."""
import pytest

from appliance import db
from appliance.models import Compte, Log, Poste, Session, Site, default_site_id
from tests import support
from tests.live import recv_json, ws_connect
from tests.support import log_actions, make_compte

SITE_FIELDS = {'id', 'nom', 'adresse', 'par_defaut', 'created_at', 'updated_at'}


@pytest.fixture
def network(client, admin_token):
    """Two sites with a poste each, a librarian on each, a visitor."""
    nord = client.post('/api/sites/', {'nom': 'Médiathèque Nord', 'adresse': '1 rue du Nord'},
                       token=admin_token).json
    default = default_site_id()
    poste_centre = client.make_poste(admin_token, 'Centre 1', '10.1.0.1')
    poste_nord = client.make_poste(admin_token, 'Nord 1', '10.2.0.1', site=nord['id'])
    make_compte('centre', role='staff')
    with db.database.connection_context():
        make_compte('nord', role='staff', site=nord['id'])
    return {
        'default': default, 'nord': nord, 'poste_centre': poste_centre, 'poste_nord': poste_nord,
        'centre': client.login('centre'), 'nord_token': client.login('nord'),
        'visitor': client.make_visitor(admin_token),
        'visitor2': client.make_visitor(admin_token, nom='Petit', prenom='Jules'),
    }


# -- the sites themselves ---------------------------------------------------------------------

def test_the_migration_made_a_default_site_that_owns_everything_made_without_one(client, admin_token, admin):
    sites = client.get('/api/sites/', token=admin_token).json
    assert sites['count'] == 1
    (site,) = sites['results']
    assert set(site) == SITE_FIELDS
    assert site['nom'] == 'Site principal' and site['par_defaut'] is True
    poste = client.make_poste(admin_token)
    assert poste['site'] == site['id']
    assert client.get('/api/auth/me/', token=admin_token).json['site_nom'] == 'Site principal'


def test_admins_create_rename_and_delete_sites_each_in_the_audit_log(client, admin_token):
    response = client.post('/api/sites/', {'nom': ' Annexe Sud ', 'adresse': '3 place du Marché'},
                           token=admin_token)
    assert response.status == 201, response
    site = response.json
    assert site['nom'] == 'Annexe Sud' and site['adresse'] == '3 place du Marché' and site['par_defaut'] is False
    assert client.get(f'/api/sites/{site["id"]}/', token=admin_token).json == site
    renamed = client.patch(f'/api/sites/{site["id"]}/', {'nom': 'Médiathèque Sud'}, token=admin_token)
    assert renamed.status == 200 and renamed.json['nom'] == 'Médiathèque Sud'
    assert renamed.json['adresse'] == '3 place du Marché'
    put = client.put(f'/api/sites/{site["id"]}/', {'nom': 'Médiathèque Sud', 'adresse': ''}, token=admin_token)
    assert put.status == 200 and put.json['adresse'] == ''
    same = client.put(f'/api/sites/{site["id"]}/', {'nom': 'Médiathèque Sud'}, token=admin_token)
    assert same.status == 200 and same.json == put.json       # nothing changed, nothing logged
    assert client.delete(f'/api/sites/{site["id"]}/', token=admin_token).status == 204
    assert client.get(f'/api/sites/{site["id"]}/', token=admin_token).status == 404
    assert log_actions(site=site['id']) == ['creation_site', 'modification_site', 'modification_site',
                                            'suppression_site']
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'modification_site').order_by(Log.id).first()
    assert entry.operateur == 'admin' and 'Annexe Sud' in entry.details


def test_site_errors(client, admin_token, staff_token, network):
    nord = network['nord']
    cases = [
        (client.post('/api/sites/', {'nom': 'Médiathèque Nord'}, token=admin_token), 400, 'nom'),
        (client.post('/api/sites/', {'nom': '   '}, token=admin_token), 400, 'nom'),
        (client.post('/api/sites/', {'adresse': 'x'}, token=admin_token), 400, 'nom'),
        (client.post('/api/sites/', {'nom': 'x' * 101}, token=admin_token), 400, 'nom'),
        (client.post('/api/sites/', {'nom': 'Ouest\x00'}, token=admin_token), 400, None),
        (client.post('/api/sites/', {'nom': 'Ouest', 'ville': 'x'}, token=admin_token), 400, 'ville'),
        (client.patch(f'/api/sites/{network["default"]}/', {'nom': 'Médiathèque Nord'}, token=admin_token), 400, 'nom'),
    ]
    for response, status, field in cases:
        assert response.status == status, response
        if field:
            assert field in response.json['errors'], response
    assert client.post('/api/sites/', {'nom': 'Ouest'}, token=staff_token).status == 403
    assert client.post('/api/sites/', {'nom': 'Ouest'}).status == 401
    assert client.delete(f'/api/sites/{nord["id"]}/', token=staff_token).status == 403
    assert client.get('/api/sites/999999/', token=admin_token).json['detail'] == 'Site introuvable.'
    assert client.get('/api/sites/abc/', token=admin_token).status == 404
    # The default site stays; a site with postes, accounts or sessions too.
    default = client.delete(f'/api/sites/{network["default"]}/', token=admin_token)
    assert default.status == 409 and 'par défaut' in default.json['detail']
    busy = client.delete(f'/api/sites/{nord["id"]}/', token=admin_token)
    assert busy.status == 409 and 'postes' in busy.json['detail']
    with db.database.connection_context():
        assert Site.select().count() == 2


def test_staff_read_their_own_site_only(client, network):
    mine = client.get('/api/sites/', token=network['nord_token']).json
    assert [s['id'] for s in mine['results']] == [network['nord']['id']]
    assert client.get(f'/api/sites/{network["nord"]["id"]}/', token=network['nord_token']).status == 200
    other = client.get(f'/api/sites/{network["default"]}/', token=network['nord_token'])
    assert other.status == 403 and 'autre site' in other.json['detail']
    me = client.get('/api/auth/me/', token=network['nord_token']).json
    assert me['site'] == network['nord']['id'] and me['site_nom'] == 'Médiathèque Nord'


# -- postes -----------------------------------------------------------------------------------

def test_postes_belong_to_a_site_and_staff_see_and_act_on_their_own(client, admin_token, network):
    centre, nord = network['poste_centre'], network['poste_nord']
    assert nord['site'] == network['nord']['id'] and centre['site'] == network['default']
    def names(token, query=''):
        response = client.get(f'/api/postes/{query}', token=token)
        assert response.status == 200, response
        return [p['nom'] for p in response.json['results']]
    assert names(network['nord_token']) == ['Nord 1']
    assert names(network['centre']) == ['Centre 1']
    assert names(admin_token) == ['Centre 1', 'Nord 1']
    assert names(admin_token, f'?site={network["nord"]["id"]}') == ['Nord 1']
    assert names(network['nord_token'], f'?site={network["nord"]["id"]}') == ['Nord 1']
    assert client.get(f'/api/postes/?site={network["default"]}', token=network['nord_token']).status == 403
    for bad in ('999999', 'abc', '-1'):
        response = client.get(f'/api/postes/?site={bad}', token=admin_token)
        assert response.status == 400 and 'site' in response.json['errors'], response
    # Another site's poste: 403 to read it or change its status; nothing changed.
    assert client.get(f'/api/postes/{centre["id"]}/', token=network['nord_token']).status == 403
    refused = client.put(f'/api/postes/{centre["id"]}/status/', {'statut': 'maintenance'},
                         token=network['nord_token'])
    assert refused.status == 403 and 'autre site' in refused.json['detail']
    assert client.get(f'/api/postes/{centre["id"]}/', token=admin_token).json['statut'] == 'disponible'
    own = client.put(f'/api/postes/{nord["id"]}/status/', {'statut': 'maintenance'}, token=network['nord_token'])
    assert own.status == 200 and own.json['statut'] == 'maintenance'
    # A poste of an unknown site is refused at creation.
    response = client.post('/api/postes/', {'nom': 'X', 'ip_address': '10.9.0.1', 'site': 999999}, token=admin_token)
    assert response.status == 400 and 'site' in response.json['errors']


def test_a_poste_moves_to_another_site_only_without_an_open_session(client, admin_token, network):
    poste = network['poste_centre']
    session = client.make_session(network['centre'], network['visitor']['id'], poste['id'])
    moved = client.patch(f'/api/postes/{poste["id"]}/', {'site': network['nord']['id']}, token=admin_token)
    assert moved.status == 409 and 'site' in moved.json['detail']
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=network['centre'])
    moved = client.patch(f'/api/postes/{poste["id"]}/', {'site': network['nord']['id']}, token=admin_token)
    assert moved.status == 200 and moved.json['site'] == network['nord']['id']
    assert 'modification_poste' in log_actions(poste=poste['id'])
    assert client.get(f'/api/postes/{poste["id"]}/', token=network['nord_token']).status == 200
    assert client.get(f'/api/postes/{poste["id"]}/', token=network['centre']).status == 403


# -- sessions ---------------------------------------------------------------------------------

def test_sessions_take_their_site_from_the_poste_the_librarian_or_the_request(client, admin_token, network):
    nord_id = network['nord']['id']
    on_poste = client.make_session(network['nord_token'], network['visitor']['id'], network['poste_nord']['id'])
    assert on_poste['site'] == nord_id
    anywhere = client.make_session(network['nord_token'], network['visitor2']['id'])
    assert anywhere['site'] == nord_id                       # the librarian's own site
    third = client.make_visitor(admin_token, nom='Leroy', prenom='Anne')
    by_admin = client.post('/api/sessions/', {'utilisateur': third['id'], 'duree_initiale': 600},
                           token=admin_token).json
    assert by_admin['site'] == network['default']            # an admin's: the default site
    fourth = client.make_visitor(admin_token, nom='Roux', prenom='Paul')
    explicit = client.post('/api/sessions/', {'utilisateur': fourth['id'], 'duree_initiale': 600,
                                              'site': nord_id}, token=admin_token).json
    assert explicit['site'] == nord_id
    with db.database.connection_context():
        assert Session.get_by_id(explicit['id']).site_id == nord_id
        assert Log.get(Log.action == 'generation_code', Log.session == explicit['id']).site == nord_id


def test_staff_cannot_touch_another_sites_sessions(client, admin_token, network):
    centre_session = client.make_session(network['centre'], network['visitor']['id'], network['poste_centre']['id'])
    nord = network['nord_token']
    # A session on another site's poste, or for another site.
    for body in ({'poste': network['poste_centre']['id']}, {'site': network['default']}):
        refused = client.post('/api/sessions/', {'utilisateur': network['visitor2']['id'], 'duree_initiale': 600,
                                                 **body}, token=nord)
        assert refused.status == 403 and 'autre site' in refused.json['detail'], refused
    mismatch = client.post('/api/sessions/', {'utilisateur': network['visitor2']['id'], 'duree_initiale': 600,
                                              'poste': network['poste_centre']['id'], 'site': network['nord']['id']},
                           token=admin_token)
    assert mismatch.status == 400 and 'site' in mismatch.json['errors']
    sid = centre_session['id']
    for response in (client.get(f'/api/sessions/{sid}/', token=nord),
                     client.post(f'/api/sessions/{sid}/add-time/', {'seconds': 600}, token=nord),
                     client.post(f'/api/sessions/{sid}/terminate/', {}, token=nord),
                     client.post('/api/sessions/validate-code/', {'code': centre_session['code_acces'],
                                                                  'poste': network['poste_centre']['id']}, token=nord)):
        assert response.status == 403, response
    shown = client.get(f'/api/sessions/{sid}/', token=network['centre']).json
    assert shown['statut'] == 'en_attente' and shown['temps_ajoute'] == 0
    assert client.get('/api/sessions/', token=nord).json['count'] == 0
    assert [s['id'] for s in client.get('/api/sessions/', token=network['centre']).json['results']] == [sid]
    assert client.get(f'/api/sessions/?site={network["nord"]["id"]}', token=admin_token).json['count'] == 0
    assert client.get(f'/api/sessions/?site={network["default"]}', token=admin_token).json['count'] == 1
    assert client.get(f'/api/sessions/?site={network["default"]}', token=nord).status == 403


def test_a_code_for_any_poste_starts_on_a_poste_of_its_own_site_only(client, network):
    session = client.make_session(network['nord_token'], network['visitor']['id'])     # any poste of Nord
    elsewhere = client.kiosk_validate(network['poste_centre']['kiosk_token'], session['code_acces'])
    assert elsewhere.status == 403 and elsewhere.json['valid'] is False and 'autre site' in elsewhere.json['detail']
    assert 'echec_code' in log_actions(poste=network['poste_centre']['id'])
    here = client.kiosk_validate(network['poste_nord']['kiosk_token'], session['code_acces'])
    assert here.status == 200 and here.json['session']['statut'] == 'active'
    assert here.json['session']['site'] == network['nord']['id']


# -- audit log, statistics, accounts ----------------------------------------------------------

def test_the_audit_log_filters_by_site(client, admin_token, network):
    client.make_session(network['nord_token'], network['visitor']['id'], network['poste_nord']['id'])
    client.make_session(network['centre'], network['visitor2']['id'], network['poste_centre']['id'])
    with db.database.connection_context(), db.writing():
        Log.create(action='sauvegarde', details='Sauvegarde du réseau.', metadata='{}')   # no site
    def entries(token, query=''):
        response = client.get(f'/api/logs/?page_size=200{query}', token=token)
        assert response.status == 200, response
        return response.json['results']
    nord_id = network['nord']['id']
    seen_by_nord = entries(network['nord_token'])
    assert {e['site'] for e in seen_by_nord} == {nord_id, None}
    assert any(e['action'] == 'generation_code' for e in seen_by_nord)
    assert any(e['action'] == 'sauvegarde' for e in seen_by_nord)    # the network's own entries
    everything = entries(admin_token)
    assert {e['site'] for e in everything} == {network['default'], nord_id, None}
    only_nord = entries(admin_token, f'&site={nord_id}')
    assert {e['site'] for e in only_nord} <= {nord_id, None} and len(only_nord) == len(seen_by_nord)
    centre_entry = next(e for e in everything if e['site'] == network['default'])
    assert client.get(f'/api/logs/{centre_entry["id"]}/', token=network['nord_token']).status == 403
    assert client.get(f'/api/logs/{centre_entry["id"]}/', token=network['centre']).status == 200
    assert client.get(f'/api/logs/?site={network["default"]}', token=network['nord_token']).status == 403


def test_statistics_filter_by_site(client, admin_token, ctx, network):
    for token, visitor, poste in ((network['nord_token'], network['visitor'], network['poste_nord']),
                                  (network['centre'], network['visitor2'], network['poste_centre'])):
        session = client.make_session(token, visitor['id'], poste['id'], duree=600)
        assert client.kiosk_validate(poste['kiosk_token'], session['code_acces']).status == 200
    ctx.clock.advance(120)
    def stats(token, query=''):
        response = client.get(f'/api/stats/{query}', token=token)
        assert response.status == 200, response
        return response.json
    everything = stats(admin_token)
    assert everything['totaux']['sessions'] == 2 and everything['postes'] == 2 and everything['site'] is None
    nord = stats(network['nord_token'])
    assert nord['site'] == network['nord']['id'] and nord['postes'] == 1
    assert nord['totaux']['sessions'] == 1 and [p['nom'] for p in nord['par_poste']] == ['Nord 1']
    assert nord['totaux']['duree_totale'] == 120
    assert stats(admin_token, f'?site={network["nord"]["id"]}')['totaux'] == nord['totaux']
    assert client.get(f'/api/stats/?site={network["default"]}', token=network['nord_token']).status == 403


def test_staff_accounts_have_a_site(client, admin_token, network):
    nord_id = network['nord']['id']
    created = client.post('/api/comptes/', {'username': 'sud', 'role': 'staff', 'password': 'Lecture-du-soir-2026',
                                            'site': nord_id}, token=admin_token)
    assert created.status == 201 and created.json['site'] == nord_id and created.json['site_nom'] == 'Médiathèque Nord'
    plain = client.post('/api/comptes/', {'username': 'ouest', 'role': 'staff', 'password': 'Lecture-du-soir-2026'},
                        token=admin_token)
    assert plain.json['site'] == network['default']
    moved = client.patch(f'/api/comptes/{plain.json["id"]}/', {'site': nord_id}, token=admin_token)
    assert moved.status == 200 and moved.json['site'] == nord_id
    bad = client.patch(f'/api/comptes/{plain.json["id"]}/', {'site': 999999}, token=admin_token)
    assert bad.status == 400 and 'site' in bad.json['errors']
    listed = client.get(f'/api/comptes/?site={nord_id}', token=admin_token).json['results']
    assert sorted(c['username'] for c in listed) == ['nord', 'ouest', 'sud']
    with db.database.connection_context():
        assert Compte.get(Compte.username == 'ouest').site_id == nord_id
        assert Log.select().where(Log.action == 'creation_compte', Log.site == nord_id).count() == 1
    # Now a Nord librarian: sees Nord's postes only.
    token = client.login('ouest', 'Lecture-du-soir-2026')
    assert [p['nom'] for p in client.get('/api/postes/', token=token).json['results']] == ['Nord 1']


def test_the_site_is_in_the_openapi_document(client):
    spec = client.get('/api/openapi.json').json
    assert {'get', 'post'} <= set(spec['paths']['/api/sites/'])
    assert {'get', 'put', 'patch', 'delete'} <= set(spec['paths']['/api/sites/{id}/'])
    for path in ('/api/postes/', '/api/sessions/', '/api/logs/', '/api/stats/'):
        assert 'site' in {p['name'] for p in spec['paths'][path]['get']['parameters']}, path


# -- the staff feed (a real server) -----------------------------------------------------------

def test_a_librarians_feed_shows_their_own_site(live):
    admin = live.admin_token()
    nord = live.api('POST', '/api/sites/', {'nom': 'Nord'}, expect=201)
    centre = live.make_poste('Centre 1', '10.1.0.1')
    other = live.api('POST', '/api/postes/', {'nom': 'Nord 1', 'ip_address': '10.2.0.1', 'site': nord['id']},
                     expect=201)
    live.api('POST', '/api/comptes/', {'username': 'nord', 'role': 'staff', 'password': 'Lecture-du-soir-2026',
                                       'site': nord['id']}, expect=201)
    token = live.request('POST', '/api/token/', {'username': 'nord', 'password': 'Lecture-du-soir-2026'})[1]['access']
    ws = ws_connect(live.ws_url(f'/ws/staff/?token={token}'))
    hello = recv_json(ws)
    assert hello['event'] == 'hello' and [p['nom'] for p in hello['postes']] == ['Nord 1']
    admin_ws = ws_connect(live.ws_url(f'/ws/staff/?token={admin}'))
    assert len(recv_json(admin_ws)['postes']) == 2
    # A change on the centre's poste, then one on Nord's: the librarian hears the second only.
    live.api('PUT', f'/api/postes/{centre["id"]}/status/', {'statut': 'maintenance'}, expect=200)
    live.api('PUT', f'/api/postes/{other["id"]}/status/', {'statut': 'maintenance'}, expect=200)
    heard = []
    while not (heard and heard[-1]['event'] == 'poste' and heard[-1]['poste']['id'] == other['id']):
        heard.append(recv_json(ws))
    assert all(m.get('poste', {}).get('id') != centre['id'] for m in heard)
    assert all(m['log']['site'] == nord['id'] for m in heard if m['event'] == 'log')
    # The centre's poste moves to Nord: it appears there.
    live.api('PUT', f'/api/postes/{centre["id"]}/status/', {'statut': 'disponible'}, expect=200)
    live.api('PATCH', f'/api/postes/{centre["id"]}/', {'site': nord['id']}, expect=200)
    while True:
        message = recv_json(ws)
        if message['event'] == 'poste' and message['poste']['id'] == centre['id']:
            break
    assert message['poste']['site'] == nord['id']
    ws.close()
    admin_ws.close()


# -- backups ----------------------------------------------------------------------------------

def schema_one_columns(folder):
    """{table: its columns} as migration 0001 made them (a scratch SQLite database)."""
    import shutil

    from peewee import SqliteDatabase
    from playhouse.migrations import Runner
    migrations = folder / 'only-0001'
    migrations.mkdir()
    shutil.copy(f'{db.MIGRATIONS_DIR}/0001_initial.py', migrations)
    scratch = SqliteDatabase(str(folder / 'schema1.db'))
    Runner(scratch, str(migrations)).up()
    columns = {table: {c.name for c in scratch.get_columns(table)} for table in scratch.get_tables()}
    scratch.close()
    return columns


def test_backups_carry_the_sites_and_an_archive_from_before_sites_lands_on_the_default_site(
        client, admin_token, ctx, network, tmp_path):
    import hashlib
    import json

    from tests.test_backup import dump, restore_archive, rewrite, take_backup
    client.make_session(network['nord_token'], network['visitor']['id'], network['poste_nord']['id'])
    with db.database.connection_context():
        before = dump()
    assert [row[1] for row in before['site']] == ['Site principal', 'Médiathèque Nord']
    result = take_backup(ctx)
    restore_archive(ctx, result.path)
    assert dump() == before

    # The same archive as the schema before sites wrote it: only the tables and columns of
    # migration 0001 (later migrations, of sites and of other features, left out).
    first = schema_one_columns(tmp_path)

    def downgrade(content):
        manifest = json.loads(content['manifest.json'])
        manifest['schema_version'] = 1
        for table in list(manifest['tables']):
            prefix = f'data/{table}/'
            if table not in first:
                del manifest['tables'][table]
                for name in [n for n in content if n.startswith(prefix)]:
                    del content[name]
                    del manifest['files'][name]
                continue
            spec = manifest['tables'][table]
            keep = [i for i, column in enumerate(spec['columns']) if column[0] in first[table]]
            spec['columns'] = [spec['columns'][i] for i in keep]
            for name in [n for n in content if n.startswith(prefix)]:
                lines = [json.dumps([json.loads(line)[i] for i in keep], ensure_ascii=False)
                         for line in content[name].decode().splitlines() if line]
                content[name] = ('\n'.join(lines) + '\n').encode() if lines else b''
                manifest['files'][name] = {'size': len(content[name]),
                                           'sha256': hashlib.sha256(content[name]).hexdigest()}
        assert 'site' not in manifest['tables'] and 'site_id' not in first['poste']
        content['manifest.json'] = json.dumps(manifest).encode()
        return content
    rewrite(result.path, downgrade)
    restore_archive(ctx, result.path, foreign=True)
    with db.database.connection_context():
        (site,) = Site.select()
        assert site.nom == 'Site principal'
        for model in (Poste, Compte, Session):
            assert {row.site_id for row in model.select()} == {site.id}, model
        assert {e.site for e in Log.select().where(Log.action != 'restauration')} == {site.id}
        assert [p.nom for p in Poste.select().order_by(Poste.nom)] == ['Centre 1', 'Nord 1']


@pytest.mark.skipif(support.postgres_url() is None, reason='several processes need PostgreSQL (DATABASE_URL)')
def test_a_librarians_feed_on_another_process_follows_their_site(live_server):
    a = live_server()
    b = live_server(share=a)
    nord = a.api('POST', '/api/sites/', {'nom': 'Nord'}, expect=201)
    centre = a.make_poste('Centre 1', '10.1.0.1')
    other = a.api('POST', '/api/postes/', {'nom': 'Nord 1', 'ip_address': '10.2.0.1', 'site': nord['id']},
                  expect=201)
    a.api('POST', '/api/comptes/', {'username': 'nord', 'role': 'staff', 'password': 'Lecture-du-soir-2026',
                                    'site': nord['id']}, expect=201)
    token = b.request('POST', '/api/token/', {'username': 'nord', 'password': 'Lecture-du-soir-2026'})[1]['access']
    ws = ws_connect(b.ws_url(f'/ws/staff/?token={token}'))
    assert [p['nom'] for p in recv_json(ws)['postes']] == ['Nord 1']
    # Changes made through A: the centre's first, then Nord's; B's librarian hears Nord's only.
    a.api('PUT', f'/api/postes/{centre["id"]}/status/', {'statut': 'maintenance'}, expect=200)
    a.api('PUT', f'/api/postes/{other["id"]}/status/', {'statut': 'maintenance'}, expect=200)
    heard = []
    while not (heard and heard[-1]['event'] == 'poste' and heard[-1]['poste']['id'] == other['id']):
        heard.append(recv_json(ws, timeout=2))
    assert all(m.get('poste', {}).get('id') != centre['id'] for m in heard)
    assert {m['log']['site'] for m in heard if m['event'] == 'log'} <= {nord['id'], None}
    ws.close()
