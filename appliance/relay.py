"""Several processes, one system: the facts one `serve` process publishes reach every other process
on the same PostgreSQL database, over PostgreSQL's own LISTEN/NOTIFY (no other broker).

Sending: the facts of a write transaction go with it, as pg_notify() calls run at its end, inside
it: PostgreSQL delivers them at commit, in commit order, and never for a transaction rolled back.
A fact published outside a transaction is sent at once.

Receiving: one greenlet keeps one autocommit connection listening and hands each fact from another
process to this process's listeners (events.deliver), as if it had been published here. A
notification sent while nobody listened is lost: when the connection drops, the greenlet connects
again (waiting a little longer each time) and then delivers RESYNC, so that everything kept in
memory is read again from the database.

The channel is named after the installation's id, kept in the database, so two installations on
one PostgreSQL server (or two test schemas) never hear each other.
"""
import hashlib
import hmac
import json
import logging
import secrets

import gevent

from appliance import db, events

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900          # PostgreSQL refuses a notification payload of 8,000 bytes or more
LISTEN_SLICE = 1.0          # seconds between checks that the listening connection is still wanted
RETRY_FIRST, RETRY_MAX = 0.5, 10.0
INSTALLATION = 'installation'     # State key of the installation's id
SECRET_KEY_CHECK = 'secret_key_check'   # State key of the fingerprint of the network's SECRET_KEY
APPLICATION_NAME = 'poste-public-relay'   # how the listening connection shows in pg_stat_activity


def libpq_url(url):
    """The database URL as libpq reads it (peewee also knows `postgresext://`)."""
    scheme, rest = url.split(':', 1)
    return 'postgresql:' + rest if scheme in ('postgres', 'postgresql', 'postgresext') else url


def encode(origin, facts):
    """Notification payloads for `facts` ([kind, payload] pairs), each under MAX_PAYLOAD bytes."""
    payloads, batch = [], []

    def text(items):
        return json.dumps({'o': origin, 'f': items}, ensure_ascii=False, separators=(',', ':'))

    for fact in facts:
        if len(text([fact]).encode('utf-8')) > MAX_PAYLOAD:
            # Too big to travel (a very long audit text): the others re-read what they keep instead.
            log.warning('fact %s too large for a notification: the other processes resynchronise', fact[0])
            fact = [events.RESYNC, {}]
        if batch and len(text(batch + [fact]).encode('utf-8')) > MAX_PAYLOAD:
            payloads.append(text(batch))
            batch = []
        batch.append(fact)
    if batch:
        payloads.append(text(batch))
    return payloads


class SecretKeyMismatch(Exception):
    pass


def check_secret_key(secret_key):
    """Every process of one database must sign tokens with the same SECRET_KEY (a desk logged in
    through one box is served by any other): the first to start records a fingerprint of its
    key, and a process with another key stops with one line instead of refusing every token."""
    from appliance.models import State
    fingerprint = hmac.new(secret_key.encode('utf-8'), b'poste-public: secret key check',
                           hashlib.sha256).hexdigest()
    State.insert(key=SECRET_KEY_CHECK, value=fingerprint).on_conflict_ignore().execute()
    if not hmac.compare_digest(State.get(State.key == SECRET_KEY_CHECK).value, fingerprint):
        raise SecretKeyMismatch('SECRET_KEY: differs from the one of the other processes on this '
                                'database; set the same SECRET_KEY for every process')


def channel_name():
    """This installation's channel: named after an id kept in the database (made once, by
    whichever process comes first)."""
    from appliance.models import State
    State.insert(key=INSTALLATION, value=secrets.token_hex(8)).on_conflict_ignore().execute()
    return 'poste_public_' + State.get(State.key == INSTALLATION).value


class Relay:
    def __init__(self, url, channel):
        self.url = libpq_url(url)
        self.channel = channel
        self.origin = secrets.token_hex(8)   # our own notifications come back to us: skip them
        self.listening = False
        self._greenlet = None

    # -- sending ----------------------------------------------------------------------------

    def send(self, kind, payload):
        if db.in_transaction():
            scratch = db.scratch()
            if 'relay' not in scratch:
                scratch['relay'] = []
                db.before_commit(lambda: self._notify(scratch.pop('relay')))   # facts sent after it: anew
            scratch['relay'].append([kind, payload])
        else:
            with db.database.connection_context():
                self._notify([[kind, payload]])

    def _notify(self, facts):
        for payload in encode(self.origin, facts):
            db.database.execute_sql('SELECT pg_notify(%s, %s)', (self.channel, payload))

    # -- receiving --------------------------------------------------------------------------

    def start(self):
        self._greenlet = gevent.spawn(self._listen_forever)

    def stop(self):
        if self._greenlet is not None:
            self._greenlet.kill()

    def is_alive(self):
        return self._greenlet is not None and not self._greenlet.dead

    def wait_listening(self, timeout):
        """True once the listening connection is up (start-up waits for it: facts sent meanwhile
        would be lost)."""
        with gevent.Timeout(timeout, False):
            while not self.listening:
                gevent.sleep(0.01)
        return self.listening

    def _listen_forever(self):
        delay, first = RETRY_FIRST, True
        while True:
            try:
                self._listen(resync=not first)
            except Exception as exc:   # the database went away, or the connection broke
                log.warning('relay: listening connection lost (%s); reconnecting in %.1f s',
                            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, delay)
            self.listening = False
            first = False
            gevent.sleep(delay)
            delay = min(RETRY_MAX, delay * 2)

    def _listen(self, resync):
        import psycopg   # only processes on PostgreSQL load it
        with psycopg.connect(self.url, autocommit=True, application_name=APPLICATION_NAME) as conn:
            conn.execute(f'LISTEN "{self.channel}"')
            self.listening = True
            if resync:
                log.info('relay: listening again; reading everything again')
                events.deliver(events.RESYNC, {})
            while True:
                for notification in conn.notifies(timeout=LISTEN_SLICE):
                    self._received(notification.payload)
                conn.execute('SELECT 1')   # a dead connection raises here, not in notifies()

    def _received(self, text):
        try:
            message = json.loads(text)
            if message.get('o') == self.origin:
                return
            facts = message['f']
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning('relay: unreadable notification ignored')
            return
        for kind, payload in facts:
            events.deliver(kind, payload)
