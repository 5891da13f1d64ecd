"""An archive restores into either engine (SQLite -> PostgreSQL and back), and an archive from an
older schema is brought forward by the migrations."""
import json
import os
import shutil
from urllib.parse import quote

import pytest

from appliance import db
from appliance.backup import archive
from appliance.models import Log
from tests import support
from tests.test_backup import dump, members, populate, restore_archive, take_backup

PG_DEFAULT = 'postgresql://postgres@127.0.0.1:5432/test'


@pytest.fixture
def rebinding(bound_database):
    """Tests here bind databases of their own; the suite's is bound back afterwards."""
    yield
    db.bind(bound_database)


@pytest.fixture
def engines(rebinding, tmp_path):
    """{'sqlite': url, 'postgresql': url} of fresh databases, whatever engine the suite runs on."""
    base = support.postgres_url() or PG_DEFAULT
    try:
        import psycopg
        psycopg.connect(base.split('?')[0], connect_timeout=3).close()
    except Exception as exc:
        pytest.skip(f'PostgreSQL not reachable at {base} ({type(exc).__name__}): cross-engine restore not tested')
    schemas = [f'xeng{os.getpid()}_{n}' for n in range(2)]
    for schema in schemas:
        support._pg_execute(base, f'DROP SCHEMA IF EXISTS {schema} CASCADE', f'CREATE SCHEMA {schema}')

    def pg(schema):
        return f'{base}{"&" if "?" in base else "?"}options={quote(f"-csearch_path={schema}")}'
    yield {'sqlite': [f'sqlite:///{tmp_path}/first.db', f'sqlite:///{tmp_path}/second.db'],
           'postgresql': [pg(schema) for schema in schemas]}
    for schema in schemas:
        support._pg_execute(base, f'DROP SCHEMA IF EXISTS {schema} CASCADE')


def rows_by_table(path):
    """Decoded rows of an archive, restore entries aside."""
    content = members(path)
    manifest = json.loads(content['manifest.json'])
    result = {}
    for table, spec in manifest['tables'].items():
        lines = [json.loads(line) for name in sorted(content) if name.startswith(f'data/{table}/')
                 for line in content[name].splitlines()]
        if table == 'log':
            action = [c for c, _ in spec['columns']].index('action')
            lines = [line for line in lines if line[action] != 'restauration']
        result[table] = lines
    return result


@pytest.mark.parametrize('first, second', [('sqlite', 'postgresql'), ('postgresql', 'sqlite')])
def test_an_archive_restores_into_the_other_engine_and_back(engines, tmp_path, first, second):
    ctx = support.make_context(tmp_path)
    support.bind_and_migrate(engines[first][0])
    client = support.Client(support.make_app(ctx))
    support.make_compte('admin', role='admin')
    populate(client, client.login('admin'), ctx)
    before = dump()
    there = take_backup(ctx)
    assert archive.read(there.path, '')['engine'] == first

    support.bind_and_migrate(engines[second][0])
    restore_archive(ctx, there.path)
    assert dump() == before
    back = take_backup(ctx)
    assert archive.read(back.path, '')['engine'] == second
    # The same rows read from either engine are written as the same JSON values.
    assert rows_by_table(back.path) == rows_by_table(there.path)

    support.bind_and_migrate(engines[first][1])
    restore_archive(ctx, back.path)
    assert dump() == before
    with db.database.connection_context(), db.writing():
        assert Log.create(action='purge').id > max(row[0] for row in before['log'])


def test_an_older_archive_is_migrated_forward(rebinding, tmp_path):
    """A future schema (here a migration of our own that edits rows) applies to an archive of today's."""
    migrations = tmp_path / 'migrations'
    migrations.mkdir()
    ours = sorted(name for name in os.listdir(db.MIGRATIONS_DIR) if name[:4].isdigit() and name.endswith('.py'))
    for name in ours:
        shutil.copy(os.path.join(db.MIGRATIONS_DIR, name), migrations)
    current = int(ours[-1][:4])
    (migrations / f'{current + 1:04d}_emplacements.py').write_text(
        'def up(migrator, db):\n'
        "    db.execute_sql(\"UPDATE poste SET emplacement = 'migré : ' || emplacement\")\n")
    ctx = support.make_context(tmp_path)
    support.bind_and_migrate(support.database_url(f'old{os.getpid()}', tmp_path))
    client = support.Client(support.make_app(ctx))
    support.make_compte('admin', role='admin')
    populate(client, client.login('admin'), ctx)
    before = dump()
    result = take_backup(ctx)
    assert archive.read(result.path, '')['schema_version'] == current

    from playhouse.migrations import Runner
    db.bind(support.database_url(f'new{os.getpid()}', tmp_path))
    with db.database.connection_context():
        Runner(db.database.obj, str(migrations)).up()
    assert db.schema_version() == current + 1
    restore_archive(ctx, result.path, migrations_dir=str(migrations))
    after = dump()
    postes = [dict(zip(('id', 'nom', 'ip', 'mac', 'statut', 'emplacement'), row)) for row in after['poste']]
    assert [p['emplacement'] for p in postes] == ['migré : ', 'migré : Salle d’étude\n1er étage']
    for table in before:
        if table != 'poste':
            assert after[table] == before[table], table
    assert os.listdir(ctx.config.photos_dir)
    assert not [n for n in os.listdir(ctx.config.data_dir) if n.startswith('.')]
    support.drop_schema(f'old{os.getpid()}')
    support.drop_schema(f'new{os.getpid()}')
