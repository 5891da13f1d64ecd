"""Reading an archive's tar stream in bounded memory.

The standard tarfile module reads a pax or GNU long-name header whole into memory before its
caller sees the member: a crafted 447 KiB archive made it allocate 460 MB. Our archives hold plain
files with short ASCII names only (ustar headers, written by tarfile in USTAR format), so this reader
knows those and refuses anything else at its header, and hands each member's content over in
chunks of at most CHUNK bytes.
"""
BLOCK = 512
CHUNK = 1024 * 1024
ZERO_BLOCK = bytes(BLOCK)
REGULAR = (b'0', b'\x00')
MAGICS = (b'ustar\x0000', b'ustar  \x00')


class TarFormatError(Exception):
    """`reason`: 'foreign' (not a tar stream at all), 'corrupt' (a bad or unexpected header) or
    'truncated' (the stream ends inside the archive)."""

    def __init__(self, reason, detail=''):
        super().__init__(detail or reason)
        self.reason = reason


class TarReader:
    def __init__(self, stream):
        self.stream = stream
        self.members = 0
        self._unread = 0      # bytes of the current member not handed over yet
        self._padding = 0     # zero bytes after it, up to the next block

    def next(self):
        """(name, size) of the next member, or None at the end of the archive."""
        self._skip(self._unread + self._padding)
        self._unread = self._padding = 0
        header = self._exact(BLOCK, at_start=True)
        if header is None or header == ZERO_BLOCK:
            return None
        first = self.members == 0
        name, size = _parse(header, first)
        self.members += 1
        self._unread, self._padding = size, -size % BLOCK
        return name, size

    def chunks(self):
        """The current member's content, in chunks of at most CHUNK bytes."""
        while self._unread:
            data = self._exact(min(CHUNK, self._unread))
            self._unread -= len(data)
            yield data

    def _exact(self, n, at_start=False):
        parts, left = [], n
        while left:
            data = self.stream.read(left)
            if not data:
                if at_start and left == n:
                    return None
                raise TarFormatError('truncated')
            parts.append(data)
            left -= len(data)
        return b''.join(parts)

    def _skip(self, n):
        while n:
            n -= len(self._exact(min(CHUNK, n)))


def _parse(header, first):
    """(name, size) from a ustar header; TarFormatError for anything our archives never hold."""
    unknown = 'foreign' if first else 'corrupt'
    try:
        stored = int(header[148:156].replace(b'\x00', b' ').strip() or b'-1', 8)
    except ValueError:
        raise TarFormatError(unknown, 'en-tête illisible') from None
    if stored != sum(header[:148]) + 8 * 32 + sum(header[156:]):
        raise TarFormatError(unknown, 'en-tête illisible')
    if header[257:265] not in MAGICS:
        raise TarFormatError(unknown, 'format de tar inattendu')
    if header[156:157] not in REGULAR:
        # pax headers ('x', 'g'), GNU long names ('L', 'K'), links, folders, devices...
        raise TarFormatError(unknown, 'membre qui n’est pas un fichier ordinaire')
    size_field = header[124:136]
    if size_field[:1] and size_field[0] & 0x80:      # base-256: sizes our archives never reach
        raise TarFormatError('corrupt', 'taille de membre démesurée')
    try:
        size = int(size_field.replace(b'\x00', b' ').strip() or b'0', 8)
        name = header[:100].split(b'\x00', 1)[0].decode('ascii')
        prefix = header[345:500].split(b'\x00', 1)[0].decode('ascii')
    except (ValueError, UnicodeDecodeError):
        raise TarFormatError(unknown, 'en-tête illisible') from None
    return (f'{prefix}/{name}' if prefix else name), size
