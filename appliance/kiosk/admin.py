"""The admin escape's secret: stored as a scrypt hash (standard library only), never in clear.

Format: `scrypt$N$r$p$<salt, base64>$<hash, base64>`, made by `poste-public kiosk hash-secret`.
"""
import base64
import hashlib
import hmac
import os

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
# A hash needing more memory than this is not one of ours (and would stall the kiosk).
MAX_MEMORY = 64 * 2 ** 20
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60


class BadHash(ValueError):
    pass


def hash_secret(secret):
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode('utf-8'), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return 'scrypt${}${}${}${}${}'.format(SCRYPT_N, SCRYPT_R, SCRYPT_P, _b64(salt), _b64(digest))


def parse_hash(text):
    """(n, r, p, salt, digest), or BadHash when `text` is not a hash made by hash_secret()."""
    parts = text.split('$')
    if len(parts) != 6 or parts[0] != 'scrypt':
        raise BadHash('ce n’est pas une empreinte scrypt (attendu : scrypt$N$r$p$sel$empreinte)')
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError as exc:
        raise BadHash('empreinte scrypt mal formée : {}'.format(exc)) from None
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or _memory(n, r, p) > MAX_MEMORY or not salt \
            or len(digest) < 16:
        raise BadHash('empreinte scrypt aux paramètres inutilisables')
    return n, r, p, salt, digest


def verify_secret(secret, stored):
    n, r, p, salt, digest = parse_hash(stored)
    candidate = hashlib.scrypt(secret.encode('utf-8'), salt=salt, n=n, r=r, p=p,
                               maxmem=_memory(n, r, p) + 2 ** 20, dklen=len(digest))
    return hmac.compare_digest(candidate, digest)


class AdminGate:
    """Checks the secret and, after MAX_FAILURES wrong ones in a row, refuses for a while."""

    def __init__(self, stored_hash, clock):
        self._hash = stored_hash
        self._clock = clock
        self._failures = 0
        self._locked_until = 0.0

    @property
    def enabled(self):
        return bool(self._hash)

    def seconds_locked(self):
        return max(0, int(self._locked_until - self._clock.monotonic() + 0.999))

    def try_secret(self, secret):
        """True when the secret is right; wrong or locked out: False."""
        if not self._hash or self.seconds_locked():
            return False
        if verify_secret(secret, self._hash):
            self._failures = 0
            return True
        self._failures += 1
        if self._failures >= MAX_FAILURES:
            self._failures = 0
            self._locked_until = self._clock.monotonic() + LOCKOUT_SECONDS
        return False


def _memory(n, r, p):
    """Bytes scrypt needs (OpenSSL's own estimate)."""
    return 128 * r * (n + p + 2)


def _b64(raw):
    return base64.b64encode(raw).decode('ascii')
