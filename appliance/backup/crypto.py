"""The encrypted envelope of an archive (when BACKUP_PASSPHRASE is set), built from `cryptography`.

    header | AES-256-GCM ciphertext of the whole archive | 16-byte GCM tag

header = b'PPBACKUP', format 1, scrypt log2(n), r, p, 16-byte salt, 12-byte nonce, 32-byte check.
scrypt (memory-hard) turns the passphrase and the archive's own random salt into 64 bytes: the first
32 are the AES key (fresh for every archive, so a nonce is never reused under one key), the last 32
are stored as the check, which tells a wrong passphrase at once instead of after reading the whole
file. The header is authenticated with the data: changing any byte of the file fails the tag.
Nothing about the content (names, counts, even the manifest) is readable without the passphrase.

GCM is used through the library's streaming interface, so an archive of any size is encrypted and
checked in bounded memory; a reader must not trust what it decrypted before `finish()` has checked
the tag (archive.py reads it to the end before anything is used).
"""
import hmac
import os
import struct
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b'PPBACKUP'
FORMAT = 1
HEADER = struct.Struct('>8sBBBB16s12s32s')
TAG_SIZE = 16
# 2**15 * 8 * 128 bytes = 32 MiB of memory per try: about 0.1 s here, under a second on a Pi.
LOG2_N, R, P = 15, 8, 1


class EnvelopeError(Exception):
    """`reason` is one of: 'format', 'truncated', 'passphrase', 'no_passphrase', 'tampered'."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _derive(passphrase, salt, log2_n, r, p):
    # NFC: "è" typed on one keyboard and on another must be the same passphrase.
    secret = unicodedata.normalize('NFC', passphrase).encode('utf-8')
    out = Scrypt(salt=salt, length=64, n=2 ** log2_n, r=r, p=p).derive(secret)
    return out[:32], out[32:]


class EncryptingWriter:
    """Write-only file object: what is written goes encrypted to `raw`; finish() adds the tag."""

    def __init__(self, raw, passphrase):
        salt, nonce = os.urandom(16), os.urandom(12)
        key, check = _derive(passphrase, salt, LOG2_N, R, P)
        header = HEADER.pack(MAGIC, FORMAT, LOG2_N, R, P, salt, nonce, check)
        self.raw = raw
        self._encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
        self._encryptor.authenticate_additional_data(header)
        raw.write(header)

    def write(self, data):
        self.raw.write(self._encryptor.update(data))
        return len(data)

    def flush(self):
        pass

    def finish(self):
        self.raw.write(self._encryptor.finalize() + self._encryptor.tag)


class DecryptingReader:
    """Read-only file object over an encrypted archive of `size` bytes, positioned at its start.

    Reading to the end checks the tag; EnvelopeError('tampered') if any byte was changed."""

    def __init__(self, raw, size, passphrase):
        header = raw.read(HEADER.size)
        if len(header) < HEADER.size:
            raise EnvelopeError('truncated')
        magic, version, log2_n, r, p, salt, nonce, check = HEADER.unpack(header)
        if magic != MAGIC:
            raise EnvelopeError('format')
        if version != FORMAT:
            raise EnvelopeError('format')
        if not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16):  # bounds a forged header's cost
            raise EnvelopeError('tampered')
        if not passphrase:
            raise EnvelopeError('no_passphrase')
        key, expected = _derive(passphrase, salt, log2_n, r, p)
        if not hmac.compare_digest(expected, check):
            raise EnvelopeError('passphrase')
        self.raw = raw
        self._left = size - HEADER.size - TAG_SIZE
        if self._left < 0:
            raise EnvelopeError('truncated')
        self._decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).decryptor()
        self._decryptor.authenticate_additional_data(header)
        self._finished = False

    def read(self, n=-1):
        if self._left == 0:
            self._finish()
            return b''
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self.raw.read(n)
        if not data:
            raise EnvelopeError('truncated')   # the file shrank while being read
        self._left -= len(data)
        return self._decryptor.update(data)

    def _finish(self):
        if self._finished:
            return
        tag = self.raw.read(TAG_SIZE)
        try:
            self._decryptor.finalize_with_tag(tag)
        except (InvalidTag, ValueError):
            raise EnvelopeError('tampered') from None
        self._finished = True

    def finish(self):
        """Read whatever is left and check the tag."""
        while self.read(1 << 20):
            pass
        self._finish()
