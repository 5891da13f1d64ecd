"""Holding the second under load (issue 17): stalls made visible, the access log off the request
path, exact log counts without a full count per page, visitor search by an index with accents and
case ignored, and migration 0006 on both engines. No test here asserts a duration: the figures
live in bench/ and docs/PERFORMANCE.md."""
import gc
import logging
import os
import shutil
from datetime import timedelta

import pytest
from peewee import fn

from appliance import audit, db
from appliance.accesslog import AccessLog
from appliance.logcount import LogCounter
from appliance.looplag import GcMonitor, LoopMonitor, metric_lines
from appliance.models import Log, Utilisateur
from appliance.search import matching, normalise
from tests import support

METRICS_TOKEN = 'jeton-de-supervision-assez-long'


# -- visitor search -------------------------------------------------------------------------------

def search(client, token, term):
    response = client.get('/api/utilisateurs/', query={'search': term}, token=token)
    assert response.status == 200, response
    return sorted(u['nom'] for u in response.json['results']), response.json['count']


@pytest.fixture
def visitors(client, admin_token):
    made = {}
    for nom, prenom, fields in (('Lefèvre', 'Éloïse', {'email': 'eloise@exemple.fr'}),
                                ('CŒUR', 'Zoé', {'telephone': '06 12 34 56 78'}),
                                ('Martin', 'Alice', {'email': 'alice_50%@exemple.fr'}),
                                ('Ngô', 'Minh', {'telephone': '0700000000'})):
        made[nom] = client.make_visitor(admin_token, nom=nom, prenom=prenom, **fields)
    return made


def test_search_ignores_accents_and_case(client, admin_token, visitors):
    assert search(client, admin_token, 'eloise') == (['Lefèvre'], 1)
    assert search(client, admin_token, 'ÉLOÏSE') == (['Lefèvre'], 1)
    assert search(client, admin_token, 'LEFEVRE eloi') == (['Lefèvre'], 1)
    assert search(client, admin_token, 'coeur') == (['CŒUR'], 1)
    assert search(client, admin_token, 'zoe') == (['CŒUR'], 1)
    assert search(client, admin_token, 'ngo') == (['Ngô'], 1)


def test_search_words_must_all_match_and_short_words_still_work(client, admin_token, visitors):
    assert search(client, admin_token, 'eloise martin') == ([], 0)
    assert search(client, admin_token, 'al') == (['Martin'], 1)       # two letters: no trigram, a scan
    assert search(client, admin_token, 'é') == (['CŒUR', 'Lefèvre', 'Martin', 'Ngô'], 4)   # every e
    assert search(client, admin_token, '06 12') == (['CŒUR'], 1)
    assert search(client, admin_token, 'exemple.fr') == (['Lefèvre', 'Martin'], 2)
    assert search(client, admin_token, '') == (['CŒUR', 'Lefèvre', 'Martin', 'Ngô'], 4)


def test_search_wildcards_are_plain_characters(client, admin_token, visitors):
    assert search(client, admin_token, '%') == (['Martin'], 1)
    assert search(client, admin_token, '_50%') == (['Martin'], 1)
    assert search(client, admin_token, 'e_o') == ([], 0)
    assert search(client, admin_token, '\\') == ([], 0)


def test_search_follows_changes_merges_and_deletions(client, admin_token, visitors):
    lefevre = visitors['Lefèvre']
    response = client.patch(f'/api/utilisateurs/{lefevre["id"]}/', {'nom': 'Dupré'}, token=admin_token)
    assert response.status == 200, response
    assert search(client, admin_token, 'lefevre') == ([], 0)
    assert search(client, admin_token, 'dupre') == (['Dupré'], 1)
    assert client.delete(f'/api/utilisateurs/{lefevre["id"]}/', token=admin_token).status == 204
    assert search(client, admin_token, 'dupre') == ([], 0)
    assert search(client, admin_token, 'eloise') == ([], 0)


def test_the_search_column_is_not_part_of_the_api(client, admin_token, visitors):
    alice = visitors['Martin']
    assert 'recherche' not in alice
    response = client.patch(f'/api/utilisateurs/{alice["id"]}/', {'recherche': 'zzz', 'notes': 'n'},
                            token=admin_token)
    # Refused as an unknown field (400), or ignored: never written by a client.
    assert response.status in (200, 400) and 'zzz' not in str(response.json)
    assert search(client, admin_token, 'zzz') == ([], 0)          # a client never writes it
    assert search(client, admin_token, 'alice') == (['Martin'], 1)


def test_normalise():
    assert normalise('Éloïse LEFÈVRE') == 'eloise lefevre'
    assert normalise('Œuvre Æther Straße') == 'oeuvre aether strasse'
    assert normalise(None) == ''


# -- log counts -------------------------------------------------------------------------------------

def write_logs(ctx, count, action='echec_code', poste=None):
    with db.database.connection_context(), db.writing():
        for _ in range(count):
            Log.create(action=action, poste=poste, created_at=ctx.clock.now())


def exact(**filters):
    with db.database.connection_context():
        query = Log.select()
        for name, value in filters.items():
            query = query.where(getattr(Log, name) == value)
        return query.count()


def test_log_counts_stay_exact_past_the_remembered_part(client, ctx, admin):
    write_logs(ctx, 30)
    write_logs(ctx, 10, action='ajout_temps', poste=7)
    ctx.clock.advance(3600)      # those are settled: their count is remembered
    admin_token = client.login('admin')
    for query in ({}, {'action': 'ajout_temps'}, {'poste': 7}):
        page = client.get('/api/logs/', query=query, token=admin_token).json
        assert page['count'] == exact(**query)
    write_logs(ctx, 5)
    write_logs(ctx, 3, action='ajout_temps', poste=7)
    assert client.get('/api/logs/', token=admin_token).json['count'] == exact()
    assert client.get('/api/logs/', query={'action': 'ajout_temps'}, token=admin_token).json['count'] == 13
    assert client.get('/api/logs/', query={'poste': '7'}, token=admin_token).json['count'] == 13


def test_log_counts_after_a_purge_and_a_wiped_log(client, ctx, admin):
    write_logs(ctx, 20)
    ctx.clock.advance(86400)
    write_logs(ctx, 4)
    ctx.clock.advance(3600)
    admin_token = client.login('admin')
    first = client.get('/api/logs/', query={'action': 'echec_code'}, token=admin_token).json
    assert first['count'] == 24
    with db.database.connection_context():
        assert audit.purge(ctx.clock.now() - timedelta(hours=2), now=ctx.clock.now()) == 20
    assert client.get('/api/logs/', query={'action': 'echec_code'}, token=admin_token).json['count'] == 4
    assert client.get('/api/logs/', token=admin_token).json['count'] == exact()
    assert client.get('/api/logs/', query={'action': 'purge'}, token=admin_token).json['count'] == 1
    with db.database.connection_context(), db.writing():
        Log.delete().execute()
    write_logs(ctx, 2)
    assert client.get('/api/logs/', query={'action': 'echec_code'}, token=admin_token).json['count'] == 2


def test_log_counter_forgets_when_the_first_entry_or_the_boundary_changes(ctx):
    counter = LogCounter(ctx.clock.now)
    with db.database.connection_context():
        assert counter.count((), Log.select()) == 0
    write_logs(ctx, 6)
    ctx.clock.advance(120)
    with db.database.connection_context():
        assert counter.count((), Log.select()) == 6
        assert counter.prefixes[()][3] == 6
        first = Log.select().order_by(Log.id).first()
        with db.writing():
            first.delete_instance()              # a purge: the first entry changes
        assert counter.count((), Log.select()) == 5
        boundary = counter.prefixes[()][0]
        with db.writing():
            Log.delete().where(Log.id == boundary).execute()   # the boundary entry is gone
        assert counter.count((), Log.select()) == 4
    write_logs(ctx, 3)
    with db.database.connection_context():
        assert counter.count((), Log.select()) == 7
        assert counter.count((('action', 'purge'),), Log.select().where(Log.action == 'purge')) == 0


def test_log_filters_and_pages_are_unchanged(client, ctx, admin):
    write_logs(ctx, 120)
    ctx.clock.advance(3600)
    admin_token = client.login('admin')
    query = {'page': '3', 'page_size': '50', 'action': 'echec_code'}
    page = client.get('/api/logs/', query=query, token=admin_token).json
    assert page['count'] == 120 and len(page['results']) == 20 and page['next'] is None
    assert client.get('/api/logs/', query={**query, 'page': '4'}, token=admin_token).status == 404
    ids = [e['id'] for e in client.get('/api/logs/', query={'page_size': '200'}, token=admin_token).json['results']]
    assert ids == sorted(ids, reverse=True)
    assert client.get('/api/logs/', query={'action': 'nope'}, token=admin_token).status == 400


# -- migration 0006 ---------------------------------------------------------------------------------

@pytest.fixture
def rebinding(bound_database):
    """Tests here bind databases of their own; the suite's is bound back afterwards."""
    yield
    db.bind(bound_database)


def test_migration_fills_the_search_column_of_existing_visitors(rebinding, tmp_path):
    from playhouse.migrations import Runner
    migrations = tmp_path / 'migrations'
    migrations.mkdir()
    for name in os.listdir(db.MIGRATIONS_DIR):
        if name[:4].isdigit() and name.endswith('.py'):
            shutil.copy(os.path.join(db.MIGRATIONS_DIR, name), migrations)
    name = f'mig{os.getpid()}'
    db.bind(support.database_url(name, tmp_path))
    with db.database.connection_context():
        runner = Runner(db.database.obj, str(migrations))
        runner.up('0001_initial')
        mark = '?' if db.is_sqlite() else '%s'
        db.database.execute_sql(
            'INSERT INTO utilisateur (nom, prenom, email, telephone, adresse, piece_identite_verifiee, '
            'numero_piece_identite, consentement_rgpd, is_guest, notes, nombre_sessions_total, created_at, '
            f'updated_at) VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, '
            f'{mark}, {mark}, {mark}, {mark})',
            ('Hélène', 'Bérénice', '', '', '', False, '', True, False, '', 0, '2026-01-01', '2026-01-01'))
        runner.up()
        assert Utilisateur.get().recherche == 'helene berenice  '
        assert [u.nom for u in Utilisateur.select().where(matching(Utilisateur, 'BERENICE'))] == ['Hélène']
        assert [u.nom for u in Utilisateur.select().where(matching(Utilisateur, 'hel'))] == ['Hélène']
    support.drop_schema(name)


# -- stalls made visible ----------------------------------------------------------------------------

def test_loop_monitor_keeps_a_histogram_and_its_worst():
    monitor = LoopMonitor(interval=0.01)
    for lag in (0.0005, 0.003, -0.001, 0.2):
        monitor.observe(lag)
    assert monitor.histogram.total == 4 and monitor.histogram.counts[0] == 2
    assert monitor.worst == 0.2
    assert monitor.reset_worst() == 0.2 and monitor.worst == 0.0
    text = '\n'.join(metric_lines(monitor, None))
    assert 'poste_public_event_loop_lag_seconds_bucket{le="0.001"} 2' in text
    assert 'poste_public_event_loop_lag_seconds_count{} 4' in text
    assert 'poste_public_event_loop_lag_worst_seconds 0.000000' in text


def test_loop_monitor_wakes_and_measures():
    import gevent
    monitor = LoopMonitor(interval=0.005).start()
    try:
        gevent.sleep(0.1)
    finally:
        monitor.stop()
    assert monitor.histogram.total >= 1


def test_gc_monitor_sees_every_collection():
    monitor = GcMonitor().install()
    try:
        gc.collect()
        gc.collect(0)
    finally:
        monitor.uninstall()
    assert monitor.histograms[2].total >= 1 and monitor.histograms[0].total >= 1
    assert monitor.worst[2] > 0
    text = '\n'.join(metric_lines(None, monitor))
    assert 'poste_public_gc_pause_seconds_bucket{generation="2",le="+Inf"}' in text
    assert 'poste_public_gc_pause_worst_seconds{generation="0"}' in text
    count = monitor.histograms[2].total
    gc.collect()
    assert monitor.histograms[2].total == count   # uninstalled: no longer called


def test_access_log_lines_wait_for_the_writer_in_order(caplog):
    logger = logging.getLogger('test.access')
    access = AccessLog(logger, max_pending=3, interval=60)
    with caplog.at_level(logging.INFO, logger='test.access'):
        access.add('GET', '/a/', '200', 1.0)
        access.add('POST', '/b/', '201', 2.5)
        assert [r for r in caplog.records if r.name == 'test.access'] == []   # nothing on the request path
        access.add('GET', '/c/', '404', 0.3)
        access.add('GET', '/d/', '200', 0.1)    # the queue holds three: the oldest is dropped
        access.flush()
    lines = [r.getMessage() for r in caplog.records if r.name == 'test.access']
    assert lines == ['1 request line(s) dropped: the log could not keep up',
                     'POST /b/ 201 2.5ms', 'GET /c/ 404 0.3ms', 'GET /d/ 200 0.1ms']
    access._writer.kill()


def test_live_metrics_show_lag_and_gc_and_the_log_keeps_its_lines(live_server):
    server = live_server(METRICS_TOKEN=METRICS_TOKEN)
    status, body = server.request('GET', '/api/health/?secret=1')
    assert status == 200
    status, text = server.request('GET', '/metrics', token=METRICS_TOKEN)
    assert status == 200
    text = text.decode()
    assert 'poste_public_event_loop_lag_seconds_bucket{le="+Inf"}' in text
    assert 'poste_public_event_loop_lag_worst_seconds ' in text
    assert 'poste_public_gc_pause_worst_seconds{generation="2"}' in text
    assert server.stop() == 0
    output = server.output()
    assert 'GET /api/health/ 200' in output and 'secret' not in output


def test_a_log_page_answered_again_follows_every_new_entry(client, ctx, admin):
    write_logs(ctx, 60)
    token = client.login('admin')
    first = client.get('/api/logs/', query={'page_size': '10'}, token=token)
    again = client.get('/api/logs/', query={'page_size': '10'}, token=token)
    assert first.status == again.status == 200 and first.body == again.body
    assert again.headers['Content-Type'].startswith('application/json')
    write_logs(ctx, 1, action='ajout_temps')
    newer = client.get('/api/logs/', query={'page_size': '10'}, token=token).json
    assert newer['count'] == first.json['count'] + 1
    assert newer['results'][0]['action'] == 'ajout_temps'
    other = client.get('/api/logs/', query={'page_size': '10'}, token=token,
                       headers={'Host': 'accueil.example'})
    if other.status == 200:   # ALLOWED_HOSTS may refuse a foreign Host: then nothing to compare
        assert other.json['next'].startswith('http://accueil.example/')
    with db.database.connection_context(), db.writing():
        Log.delete().where(Log.id == Log.select(fn.MIN(Log.id)).scalar()).execute()   # a purge
    assert client.get('/api/logs/', query={'page_size': '10'}, token=token).json['count'] == newer['count'] - 1


# -- group commit -----------------------------------------------------------------------------------

def test_group_commit_runs_writes_arriving_together_in_one_transaction(ctx):
    import gevent
    from appliance.groupcommit import GroupCommit
    from appliance.models import State
    transactions = []

    def work(key):
        transactions.append(id(db.database.connection()))
        State.create(key=key, value='x')
        return key.upper()

    group = GroupCommit(work)

    def caller(key):
        with db.database.connection_context():
            try:
                return group(key)
            except Exception as exc:   # the duplicate below
                return type(exc).__name__

    with db.database.connection_context(), db.writing():
        State.create(key='pris', value='déjà')
    callers = [gevent.spawn(caller, key) for key in ('a', 'b', 'pris', 'c')]
    gevent.joinall(callers)
    assert [g.value for g in callers] == ['A', 'B', 'IntegrityError', 'C']
    assert len(set(transactions)) == 1          # one writer, one connection, one transaction
    with db.database.connection_context():
        assert sorted(s.key for s in State.select().where(State.key.in_(['a', 'b', 'c', 'pris']))) == \
            ['a', 'b', 'c', 'pris']
        with db.writing():
            assert group('d') == 'D'            # inside a transaction: run there, not queued
        assert State.get(State.key == 'd').value == 'x'


def test_kiosks_connecting_together_each_get_their_entry(client, ctx, admin_token):
    import gevent
    postes = [client.make_poste(admin_token, nom=f'Poste G{n}', ip=f'10.8.0.{n + 1}') for n in range(12)]
    with db.database.connection_context(), db.writing():
        from appliance.models import Poste
        Poste.update(statut='hors_ligne').execute()
    rows = {}
    with db.database.connection_context():
        from appliance.models import Poste
        rows = {p.id: p for p in Poste.select()}

    def connect(poste_id):
        with db.on_demand():
            ctx.desk.kiosk_connected(rows[poste_id], ip='10.8.0.200')

    gevent.joinall([gevent.spawn(connect, p['id']) for p in postes])
    with db.database.connection_context():
        entries = Log.select().where(Log.action == 'connexion_poste')
        assert sorted(e.poste for e in entries) == sorted(p['id'] for p in postes)
        assert {p.statut for p in Poste.select()} == {'disponible'}
        assert all(p.derniere_connexion is not None for p in Poste.select())
