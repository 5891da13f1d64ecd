"""Big tables: the visitor search column and its index, and indexes that serve the dashboard's
filters of the audit log. A frozen copy of what it needs, independent of appliance.models."""
import unicodedata

from peewee import SqliteDatabase

SEARCHED = ('nom', 'prenom', 'email', 'telephone')


def _normalise(text):
    decomposed = unicodedata.normalize('NFKD', (text or '').casefold())
    plain = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace('œ', 'oe').replace('æ', 'ae')


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    # With a default in the database too: rows written by hand (imports, scripts) still go in.
    db.execute_sql("ALTER TABLE utilisateur ADD COLUMN recherche TEXT NOT NULL DEFAULT ''")
    mark = '?' if sqlite else '%s'
    rows = db.execute_sql('SELECT id, nom, prenom, email, telephone FROM utilisateur').fetchall()
    for row in rows:
        text = ' '.join(_normalise(value) for value in row[1:])
        db.execute_sql(f'UPDATE utilisateur SET recherche = {mark} WHERE id = {mark}', (text, row[0]))

    # The visitors' list is ordered by name; the audit log by date then id, filtered by one of
    # these (the dashboard's filters): each gets an index that gives the rows already in order.
    db.execute_sql('CREATE INDEX utilisateur_nom_prenom_id ON utilisateur (nom, prenom, id)')
    db.execute_sql('CREATE INDEX log_created_at_id ON log (created_at, id)')
    for column in ('action', 'poste', 'utilisateur', 'session'):
        db.execute_sql(f'CREATE INDEX log_{column}_created_at_id ON log ({column}, created_at, id)')
        db.execute_sql(f'DROP INDEX log_{column}')   # the new one starts with the same column
    db.execute_sql('DROP INDEX log_created_at')
    # Sessions: the list filtered by statut and ordered by date; the sweep of waiting codes past
    # their validity and of running sessions past their deadline, which every new code runs first
    # (with the statut index alone it read every waiting code: creation slowed as they piled up).
    db.execute_sql('CREATE INDEX poste_session_statut_created_at_id ON poste_session (statut, created_at, id)')
    db.execute_sql('CREATE INDEX poste_session_statut_fin_prevue ON poste_session (statut, fin_prevue)')
    # A new code is checked against the open ones, a typed code looked up: by the code itself (the
    # partial unique index cannot serve a query whose statuts are parameters).
    db.execute_sql('CREATE INDEX poste_session_code_acces ON poste_session (code_acces)')

    if sqlite:
        if _has_fts5(db):
            # Trigram full-text table over the column, without a copy of it (content=utilisateur).
            db.execute_sql("CREATE VIRTUAL TABLE utilisateur_recherche USING fts5(recherche, "
                           "content='utilisateur', content_rowid='id', tokenize='trigram')")
            db.execute_sql("INSERT INTO utilisateur_recherche (utilisateur_recherche) VALUES ('rebuild')")
            db.execute_sql("CREATE TRIGGER utilisateur_recherche_ai AFTER INSERT ON utilisateur BEGIN "
                           "INSERT INTO utilisateur_recherche (rowid, recherche) VALUES (new.id, new.recherche); END")
            db.execute_sql("CREATE TRIGGER utilisateur_recherche_ad AFTER DELETE ON utilisateur BEGIN "
                           "INSERT INTO utilisateur_recherche (utilisateur_recherche, rowid, recherche) "
                           "VALUES ('delete', old.id, old.recherche); END")
            db.execute_sql("CREATE TRIGGER utilisateur_recherche_au AFTER UPDATE OF recherche ON utilisateur BEGIN "
                           "INSERT INTO utilisateur_recherche (utilisateur_recherche, rowid, recherche) "
                           "VALUES ('delete', old.id, old.recherche); "
                           "INSERT INTO utilisateur_recherche (rowid, recherche) VALUES (new.id, new.recherche); END")
    else:
        # pg_trgm ships with PostgreSQL and is "trusted" (the database's owner may create it); a
        # server without it still searches, by a scan of the one column.
        db.execute_sql('SAVEPOINT trigram')
        try:
            db.execute_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
            db.execute_sql('CREATE INDEX utilisateur_recherche_trgm ON utilisateur '
                           'USING gin (recherche gin_trgm_ops)')
            db.execute_sql('RELEASE SAVEPOINT trigram')
        except Exception:
            db.execute_sql('ROLLBACK TO SAVEPOINT trigram')


def _has_fts5(db):
    try:
        db.execute_sql("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x, tokenize='trigram')")
    except Exception:
        return False
    db.execute_sql('DROP TABLE temp._fts5_probe')
    return True
