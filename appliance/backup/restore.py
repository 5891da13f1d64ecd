"""An archive back into the database, meant for a stopped service (docs/backup.md).

check() reads the whole archive and refuses it, touching nothing, when it is damaged, foreign,
encrypted with another passphrase or made by a newer schema. An archive that is sound but that this
box did not write (its HMAC does not match this box's secret) is refused too, unless the operator
accepts it explicitly (`foreign`: `poste-public restore --foreign`). apply() then replaces everything in one
transaction: every table emptied, every row inserted, the id sequences moved past the restored ids,
the photos folder swapped by a rename just before the commit (and swapped back if the commit fails).
An archive from an older schema is first loaded into a scratch SQLite database at its own schema,
brought forward by the same migrations as the live database, and copied from there.
"""
import json
import os
import shutil
import tempfile

from peewee import AutoField, SqliteDatabase
from playhouse.migrations import Migration, Runner

from appliance import accounts, audit, db
from appliance.backup import archive, tables
from appliance.backup.snapshot import SqliteSnapshot
from appliance.models import AuthSession, forget_default_site


CHANGED = 'l’archive a changé depuis sa vérification'


class RestoreError(Exception):
    pass


def check(path, passphrase, progress=None, migrations_dir=db.MIGRATIONS_DIR, *, key, foreign=False):
    """(manifest, authentic) of an archive that can be restored here; ArchiveError or RestoreError
    if not. `key`: archive.mac_key() of this box's secret; `foreign`: accept an archive it does
    not prove (then `authentic` says whether it needed accepting; pass `foreign=not authentic`
    to apply())."""
    manifest, authentic = archive.verify(path, passphrase, progress=progress, key=key)
    if not authentic and not foreign:
        raise archive.ArchiveError('unauthenticated')
    version, current = manifest['schema_version'], db.schema_version()
    if version > current:
        raise RestoreError(f'cette sauvegarde vient d’une version plus récente de Poste Public (schéma {version}, '
                           f'ici {current}) : mettez l’application à jour avant de la restaurer')
    if version == current:
        found = {table: [tuple(c) for c in spec['columns']] for table, spec in manifest['tables'].items()}
        if found != tables.layout():
            raise RestoreError('archive incohérente : ses tables ne correspondent pas à son schéma')
    elif _migration_name(migrations_dir, version) is None:
        raise RestoreError(f'schéma {version} inconnu de cette version de Poste Public')
    return manifest, authentic


def _migration_name(migrations_dir, version):
    names = [m.name for m in Migration.load_directory(migrations_dir) if m.idx == version]
    return names[0] if names else None


def apply(path, manifest, config, *, now, operateur, passphrase, progress=None,
          migrations_dir=db.MIGRATIONS_DIR, key, foreign=False):
    """Replace all data with the archive's (checked by check(), with the same `key`; `foreign` when
    check() found it not authentic and the operator accepted it). Returns the number of rows."""
    photos_new = tempfile.mkdtemp(prefix='.photos-restore-', dir=config.data_dir)
    stage_path = None
    try:
        def save_photo(name, data):
            with open(os.path.join(photos_new, name), 'wb') as f:
                f.write(data)

        inserter = _Inserter(manifest, progress)
        if manifest['schema_version'] == db.schema_version():
            def load():
                if archive.read(path, passphrase, on_rows=inserter.insert_member, on_photo=save_photo,
                                key=key, foreign=foreign) != manifest:
                    raise RestoreError(CHANGED)
        else:
            stage_path = _stage(path, manifest, passphrase, save_photo, config.data_dir, migrations_dir,
                                key, foreign)

            def load():
                inserter.copy_from(stage_path)
        _replace_all(load, config.photos_dir, photos_new, manifest, path, now, operateur, foreign)
    except (archive.ArchiveError, RestoreError):
        raise
    except Exception as exc:   # the database refused a row (a damaged or forged plain archive)
        raise RestoreError(f'la base de données a refusé les données ({exc})') from exc
    finally:
        shutil.rmtree(photos_new, ignore_errors=True)
        if stage_path:
            os.remove(stage_path)
    # The password generated at first start belonged to an account the restore has replaced.
    try:
        os.remove(os.path.join(config.data_dir, accounts.INITIAL_PASSWORD_FILE))
    except FileNotFoundError:
        pass
    return inserter.total


def _replace_all(load, photos_dir, photos_new, manifest, path, now, operateur, foreign):
    set_aside = None
    try:
        with db.writing():
            for model in [AuthSession] + tables.MODELS[::-1]:    # children before parents
                model.delete().execute()
            load()
            forget_default_site()
            _move_sequences_past_restored_ids()
            rows = sum(spec['rows'] for spec in manifest['tables'].values())
            audit.record('restauration', now=now, operateur=operateur,
                         details=f'Données remplacées par la sauvegarde {os.path.basename(path)} '
                                 f'du {manifest["created_at"][:16].replace("T", " à ")} UTC '
                                 f'({rows} lignes, {manifest["photos"]} photo(s)).',
                         metadata={'archive': os.path.basename(path), 'creee_le': manifest['created_at'],
                                   'schema': manifest['schema_version'], 'version': manifest['app_version'],
                                   'moteur': manifest['engine'], 'etrangere_acceptee': foreign,
                                   'lignes': {t: s['rows'] for t, s in manifest['tables'].items()}})
            set_aside = _swap_in(photos_dir, photos_new)   # last step before the commit
    except BaseException:
        if set_aside is not None:
            _swap_back(photos_dir, photos_new, set_aside)
        raise
    if set_aside:
        shutil.rmtree(set_aside, ignore_errors=True)


def _swap_in(photos_dir, photos_new):
    """Put the restored photos in place; returns where the old ones went ('' if there were none)."""
    set_aside = ''
    if os.path.exists(photos_dir):
        set_aside = tempfile.mkdtemp(prefix='.photos-old-', dir=os.path.dirname(photos_dir))
        os.rmdir(set_aside)
        os.rename(photos_dir, set_aside)
    os.rename(photos_new, photos_dir)
    return set_aside


def _swap_back(photos_dir, photos_new, set_aside):
    os.rename(photos_dir, photos_new)
    if set_aside:
        os.rename(set_aside, photos_dir)


def _move_sequences_past_restored_ids():
    """PostgreSQL: each id sequence goes past the highest restored id, never back (ids are not
    reused: the audit log names rows by id). SQLite's AUTOINCREMENT does this by itself: inserting
    an explicit id raises sqlite_sequence, and deleting rows never lowers it."""
    if db.is_sqlite():
        return
    for model in tables.MODELS:
        pk = model._meta.primary_key
        if not isinstance(pk, AutoField):
            continue
        table, column = model._meta.table_name, pk.column_name
        sequence = db.database.execute_sql('SELECT pg_get_serial_sequence(%s, %s)', (table, column)).fetchone()[0]
        last, called = db.database.execute_sql(f'SELECT last_value, is_called FROM {sequence}').fetchone()
        highest = db.database.execute_sql(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0] or 0
        target = max(highest, last if called else last - 1)
        if target >= 1:
            db.database.execute_sql('SELECT setval(%s, %s, true)', (sequence, target))


def _decoders(manifest):
    return {table: tables.decoder([kind for _, kind in spec['columns']])
            for table, spec in manifest['tables'].items()}


def _decode_member(decoders, table, data):
    """The rows of one data member as Python values; RestoreError at the first that does not fit."""
    decode = decoders.get(table)
    if decode is None:
        raise RestoreError(f'archive invalide : table {table} inattendue')
    rows = []
    for number, line in enumerate(data.splitlines(), 1):
        try:
            rows.append(decode(json.loads(line)))
        except (ValueError, tables.BadValue) as exc:
            raise RestoreError(f'archive invalide : table {table}, ligne {number} ({exc})') from None
    return rows


def _insert_sqlite(database, table, columns, rows):
    names = ', '.join(f'"{c}"' for c in columns)
    marks = ', '.join('?' * len(columns))
    database.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                                  [tuple(tables.sqlite_value(v) for v in row) for row in rows])


class _Inserter:
    """Rows into the live database, many at a time."""

    def __init__(self, manifest, progress):
        self.total = sum(spec['rows'] for spec in manifest['tables'].values())
        self.done, self.progress = 0, progress
        self.decoders = _decoders(manifest)
        self.columns = {table: [name for name, _ in cols] for table, cols in tables.layout().items()}

    def insert_member(self, table, data):
        self.insert(table, self.columns[table], _decode_member(self.decoders, table, data))

    def insert(self, table, columns, rows):
        if not rows:
            return
        if db.is_sqlite():
            _insert_sqlite(db.database, table, columns, rows)
        else:
            # COPY: one stream for many rows (executemany costs a round trip per row under gevent).
            names = ', '.join(f'"{c}"' for c in columns)
            with db.database.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        self.done += len(rows)
        if self.progress:
            self.progress(f'Restauration : {self.done * 100 // max(self.total, 1)} % des lignes')

    def copy_from(self, stage_path):
        """Every current table, read back from the migrated scratch database."""
        with SqliteSnapshot(stage_path) as stage:
            for table, cols in tables.layout().items():
                names = [name for name, _ in cols]
                kinds = [kind for _, kind in cols]
                encode, decode = tables.encoder(kinds), tables.decoder(kinds)
                batch = []
                for row in stage.rows(table, names):
                    batch.append(decode(encode(row)))
                    if len(batch) == archive.ROWS_PER_MEMBER:
                        self.insert(table, names, batch)
                        batch = []
                self.insert(table, names, batch)


def _stage(path, manifest, passphrase, save_photo, data_dir, migrations_dir, key, foreign):
    """Load an older archive into a scratch SQLite database at its schema, then migrate it forward."""
    fd, stage_path = tempfile.mkstemp(prefix='.restore-', suffix='.db', dir=data_dir)
    os.close(fd)
    stage = SqliteDatabase(stage_path, pragmas={'foreign_keys': 0, 'synchronous': 'off'})
    try:
        runner = Runner(stage, migrations_dir)
        runner.up(_migration_name(migrations_dir, manifest['schema_version']))
        for table, spec in manifest['tables'].items():
            found = [c.name for c in stage.get_columns(table)]
            if sorted(found) != sorted(name for name, _ in spec['columns']):
                raise RestoreError(f'archive incohérente : la table {table} ne correspond pas au schéma '
                                   f'{manifest["schema_version"]}')
        decoders = _decoders(manifest)

        def insert_member(table, data):
            rows = _decode_member(decoders, table, data)
            _insert_sqlite(stage, table, [name for name, _ in manifest['tables'][table]['columns']], rows)

        with stage.atomic():
            # What the migrations themselves wrote (the default site of 0002) gives way to the
            # archive's own rows.
            for table in set(stage.get_tables()) & set(manifest['tables']):
                stage.execute_sql(f'DELETE FROM "{table}"')
            if archive.read(path, passphrase, on_rows=insert_member, on_photo=save_photo,
                            key=key, foreign=foreign) != manifest:
                raise RestoreError(CHANGED)
        runner.up()
    except BaseException:
        stage.close()
        os.remove(stage_path)
        raise
    stage.close()
    return stage_path
