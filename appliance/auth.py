"""Staff authentication: bcrypt passwords, short-lived JWT access tokens, rotating refresh tokens.

Each login is an AuthSession row. Its refresh token rotates on every refresh (a replayed old refresh
token revokes the whole login), and revoking it rejects its access tokens too: logout, account
deactivation and password changes all go through that one switch.
"""
import functools
import secrets
import sys
from datetime import timedelta

import bcrypt
import gevent


def _import_jwt():
    """PyJWT imports `cryptography` whenever it is installed, for RSA and EC keys; we sign with
    HS256 only. Importing it without them keeps about 6 MB out of the serving process (backups
    load `cryptography` themselves when they encrypt or read an archive)."""
    if 'cryptography' in sys.modules:
        import jwt
        return jwt
    sys.modules['cryptography'] = None   # PyJWT then sees it as absent
    try:
        import jwt
    finally:
        del sys.modules['cryptography']
    return jwt


jwt = _import_jwt()

from appliance import audit, db, events
from appliance.clock import epoch_seconds
from appliance.db import writing
from appliance.errors import Invalid, RateLimited, Unauthorized
from appliance.models import AuthSession, Compte
from appliance.throttle import Backoff, Throttle

ALGORITHM = 'HS256'
BCRYPT_ROUNDS = 12
COMMON_PASSWORDS = frozenset('''
123456789012 azertyuiop azertyuiop1 motdepasse motdepasse1 motdepasse123 password123 password1234
administrateur bibliotheque bibliotheque1 mediatheque mediatheque1 qwertyuiop 1234567890
changeme123 bienvenue123 soleil12345 iloveyou123 football123 000000000000 111111111111
'''.split())


@functools.cache
def _dummy_hash():
    # An unknown username still costs one full bcrypt check: timing does not tell which names exist.
    return hash_password(secrets.token_hex(16))


def _in_threadpool(fn, *args):
    # bcrypt is CPU-bound for ~0.2 s (more on a Pi): off the event loop, kiosks keep their timers.
    return gevent.get_hub().threadpool.apply(fn, args)


def hash_password(password):
    salt = bcrypt.gensalt(BCRYPT_ROUNDS)
    return _in_threadpool(bcrypt.hashpw, password.encode('utf-8'), salt).decode('ascii')


def check_password(password, hashed):
    raw = password.encode('utf-8')
    if len(raw) > 72:  # bcrypt refuses longer input; such a password was never accepted
        return False
    return _in_threadpool(bcrypt.checkpw, raw, hashed.encode('ascii'))


def password_problems(password, username=''):
    """Why a password is refused, in French; empty when it is strong enough."""
    problems = []
    if len(password) < 10:
        problems.append('Le mot de passe doit contenir au moins 10 caractères.')
    if len(password.encode('utf-8')) > 72:
        problems.append('Le mot de passe ne doit pas dépasser 72 octets.')
    if password.isdigit():
        problems.append('Le mot de passe ne peut pas être entièrement numérique.')
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append('Ce mot de passe est trop courant.')
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("Le mot de passe ne doit pas contenir le nom d'utilisateur.")
    return problems


class Authenticator:
    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        # Failed logins slow down the pair (username, source address) that fails: the librarian
        # at the desk logs in while someone elsewhere guesses the same username. A source address
        # trying many usernames meets a ceiling: 20 failures in 15 min lock it for 15 min.
        self.by_pair = Backoff(clock)
        self.by_address = Throttle(limit=20, window=900, lockout=900, clock=clock)
        self.password_checks = Backoff(clock)   # the current password, when changing it
        # Login id -> its live Compte, so a request costs no query. Every change of a login or an
        # account calls forget(), which other processes on the same database hear of too.
        self._live = {}
        # Token -> its claims once the signature checked: a token never changes, and checking it
        # again costs more than the rest of a typical request.
        self._verified = {}

    # -- login, refresh, logout -------------------------------------------------------------

    def login(self, username, password, ip):
        """Returns (compte, access, refresh). Raises RateLimited or Unauthorized."""
        pair = (username.strip().lower(), ip)
        wait = max(self.by_pair.retry_after(pair), self.by_address.retry_after(ip))
        if wait:
            raise RateLimited(wait)
        compte = Compte.get_or_none(Compte.username == username.strip())
        ok = check_password(password, compte.password_hash if compte else _dummy_hash())
        now = self.clock.now()
        if not ok or not compte.is_active:
            self.by_pair.failure(pair)
            self.by_address.failure(ip)
            # What was typed is not kept: an unknown username may well be a password typed in the
            # wrong field. Only the name of an existing account is written down.
            if compte is None:
                details, metadata = 'Échec de connexion : identifiant inconnu.', {'identifiant_inconnu': True}
            else:
                details, metadata = f'Échec de connexion au compte {compte.username}.', {'username': compte.username}
            with writing():
                audit.record('echec_connexion', now=now, ip=ip, details=details, metadata=metadata)
            raise Unauthorized('Identifiants invalides.')
        self.by_pair.reset(pair)
        with writing():
            compte.last_login = now
            compte.save(only=[Compte.last_login])
            access, refresh = self._open_session(compte, now)
            audit.record('connexion_staff', now=now, operateur=compte, ip=ip,
                         details=f'Connexion de {compte.username}.')
        return compte, access, refresh

    def check_current_password(self, compte, password, ip):
        """Before a password change: Invalid when `password` is not the account's current one, and
        the same growing wait as logins for repeated failures (a stolen access token must not
        become a free password-guessing oracle)."""
        key = (compte.id, ip)
        wait = max(self.password_checks.retry_after(key), self.by_address.retry_after(ip))
        if wait:
            raise RateLimited(wait)
        if not check_password(password, compte.password_hash):
            self.password_checks.failure(key)
            self.by_address.failure(ip)
            with writing():
                audit.record('echec_connexion', now=self.clock.now(), operateur=compte, ip=ip,
                             details=f'Mot de passe actuel incorrect lors d’un changement de mot de passe '
                                     f'({compte.username}).',
                             metadata={'username': compte.username, 'changement_mot_de_passe': True})
            raise Invalid({'old_password': ['Mot de passe actuel incorrect.']})
        self.password_checks.reset(key)

    def refresh(self, token):
        claims = self._decode(token, 'refresh')
        now = self.clock.now()
        with writing():
            row = self._live_session(claims)
            replayed = row.refresh_jti != claims['jti']
            if replayed:
                # An old refresh token came back: it was stolen or replayed. End that login.
                row.revoked_at = now
                row.save(only=[AuthSession.revoked_at])
                self.forget(row.compte_id)
            else:
                row.refresh_jti = secrets.token_hex(16)
                row.save(only=[AuthSession.refresh_jti])
        if replayed:
            raise Unauthorized('Jeton de rafraîchissement déjà utilisé.')
        return self._access(row, now), self._refresh(row, now)

    def logout(self, refresh_token, compte, ip):
        """Revoke the login that `refresh_token` belongs to; it must be the caller's own."""
        claims = self._decode(refresh_token, 'refresh', check_expiry=False)
        now = self.clock.now()
        with writing():
            row = AuthSession.get_or_none(AuthSession.id == claims['sid'])
            if row is None or row.compte_id != compte.id:
                raise Unauthorized('Jeton de rafraîchissement invalide.')
            if row.revoked_at is None:
                row.revoked_at = now
                row.save(only=[AuthSession.revoked_at])
                self.forget(compte.id)
            audit.record('deconnexion_staff', now=now, operateur=compte, ip=ip,
                         details=f'Déconnexion de {compte.username}.')

    def revoke_all(self, compte):
        """End every login of `compte` (deactivation, new password). Call inside writing()."""
        (AuthSession.update(revoked_at=self.clock.now())
         .where(AuthSession.compte == compte, AuthSession.revoked_at.is_null())
         .execute())
        self.forget(compte.id)

    def forget(self, compte_id):
        """Drop what is remembered of this account's logins (it changed, or a login ended).

        Dropped now and again after the commit, so a request reading in between cannot keep the
        state from before the change. Every staff feed (of this process, and of the others on the
        same database) hears of it too, and closes the sockets whose login no longer holds."""
        self._drop(compte_id)
        db.on_commit(lambda: self._drop(compte_id))
        events.publish(events.LOGIN_CHANGED, compte_id=compte_id)

    def follow(self):
        """Forget what other processes changed (logins revoked, accounts changed), and everything
        when facts may have been missed."""
        events.subscribe(lambda kind, fact: self._drop(fact['compte_id']), events.LOGIN_CHANGED)
        events.subscribe(lambda kind, fact: self._live.clear(), events.RESYNC)

    def _drop(self, compte_id):
        for sid in [sid for sid, c in self._live.items() if c.id == compte_id]:
            del self._live[sid]

    # -- checking credentials --------------------------------------------------------------

    def authenticate(self, access_token):
        """The active Compte behind an access token, or Unauthorized."""
        claims = self._decode(access_token, 'access')
        compte = self._live.get(claims['sid'])
        if compte is None or str(compte.id) != str(claims['sub']):
            compte = self._live_session(claims).compte
            if len(self._live) > 10000:
                self._live.clear()
            self._live[claims['sid']] = compte
        return compte

    def seconds_left(self, access_token):
        """How long an access token that authenticate() accepted stays valid, in seconds."""
        claims = self._decode(access_token, 'access')
        return claims['exp'] - epoch_seconds(self.clock.now())

    def verify(self, token):
        """Any valid, unrevoked token (access or refresh), for /api/token/verify/."""
        try:
            kind = jwt.decode(token, options={'verify_signature': False}).get('type')
        except jwt.PyJWTError:
            raise Unauthorized('Jeton invalide.') from None
        claims = self._decode(token, kind if kind in ('access', 'refresh') else 'access')
        self._live_session(claims)

    # -- internals -------------------------------------------------------------------------

    def _open_session(self, compte, now):
        row = AuthSession.create(
            id=secrets.token_hex(16), compte=compte, refresh_jti=secrets.token_hex(16),
            created_at=now, expires_at=now + timedelta(seconds=self.config.refresh_token_lifetime))
        return self._access(row, now), self._refresh(row, now)

    def _access(self, row, now):
        return self._encode(row, 'access', now, self.config.access_token_lifetime, secrets.token_hex(8))

    def _refresh(self, row, now):
        return self._encode(row, 'refresh', now, self.config.refresh_token_lifetime, row.refresh_jti)

    def _encode(self, row, kind, now, lifetime, jti):
        epoch = int(epoch_seconds(now))
        claims = {'type': kind, 'sub': str(row.compte_id), 'sid': row.id, 'jti': jti,
                  'iat': epoch, 'exp': epoch + lifetime}
        return jwt.encode(claims, self.config.secret_key, algorithm=ALGORITHM)

    def _decode(self, token, kind, check_expiry=True):
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise Unauthorized('Jeton manquant ou invalide.')
        claims = self._verified.get(token)
        if claims is None:
            try:
                # Expiry is checked below against our own clock (monotonic within the process).
                claims = jwt.decode(token, self.config.secret_key, algorithms=[ALGORITHM],
                                    options={'verify_exp': False,
                                             'require': ['type', 'sub', 'sid', 'jti', 'exp']})
            except jwt.PyJWTError:
                raise Unauthorized('Jeton invalide.') from None
            if len(self._verified) > 10000:
                self._verified.clear()
            self._verified[token] = claims
        if claims.get('type') != kind or not isinstance(claims.get('exp'), int):
            raise Unauthorized('Jeton invalide.')
        if check_expiry and claims['exp'] <= epoch_seconds(self.clock.now()):
            raise Unauthorized('Jeton expiré.')
        return claims

    def _live_session(self, claims):
        row = (AuthSession.select(AuthSession, Compte).join(Compte)
               .where(AuthSession.id == str(claims['sid'])).first())
        if row is None or row.revoked_at is not None or str(row.compte_id) != str(claims['sub']):
            raise Unauthorized('Jeton révoqué.')
        if not row.compte.is_active:
            raise Unauthorized('Compte désactivé.')
        return row

