"""Visitor search: one normalised column, accents and case ignored, served by an index.

`utilisateur.recherche` holds the searched fields (nom, prénom, e-mail, téléphone) in lower case
without accents, separated by spaces; the model writes it on every save (models.py). A search word,
normalised the same way, is a substring of it. The index that serves `LIKE '%mot%'`: a trigram
full-text table on SQLite (FTS5, `utilisateur_recherche`, kept up to date by triggers), a
`pg_trgm` GIN index on PostgreSQL (made by migration 0006 when the extension can be created; a
plain scan of the one column otherwise). Words shorter than 3 letters have no trigram: a scan.
"""
import unicodedata

from peewee import SQL, NodeList, Value

from appliance import db

SEARCHED = ('nom', 'prenom', 'email', 'telephone')
FTS_TABLE = 'utilisateur_recherche'
MIN_INDEXED = 3
WILDCARDS = set('%_\\')


def normalise(text):
    """Lower case, accents removed ("Éloïse" -> "eloise"), œ and æ spelt out."""
    decomposed = unicodedata.normalize('NFKD', (text or '').casefold())
    plain = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace('œ', 'oe').replace('æ', 'ae')


def search_text(visitor):
    return ' '.join(normalise(getattr(visitor, name) or '') for name in SEARCHED)


def _like_pattern(word):
    return '%' + word.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_') + '%'


def matching(model, search):
    """The condition "every word of `search` is in the visitor's searched fields", or None."""
    condition = None
    for word in search.split():
        word = normalise(word)
        if not word:
            continue
        pattern = _like_pattern(word)
        if (db.is_sqlite() and len(word) >= MIN_INDEXED and not WILDCARDS & set(word) and _has_fts()):
            # No ESCAPE clause here: with one, FTS5 scans its whole table instead of its index.
            clause = NodeList((model.id, SQL(f"IN (SELECT rowid FROM {FTS_TABLE} WHERE recherche LIKE ?)",
                                             [f'%{word}%'])))
        else:
            clause = NodeList((model.recherche, SQL('LIKE'), Value(pattern), SQL("ESCAPE '\\'")))
        condition = clause if condition is None else condition & clause
    return condition


_fts = {}


def _has_fts():
    """Whether this SQLite database has the trigram table (a SQLite built without FTS5 has not)."""
    key = id(db.database.obj)
    if key not in _fts:
        _fts[key] = bool(db.database.execute_sql(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone())
    return _fts[key]
