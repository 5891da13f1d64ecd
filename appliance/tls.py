"""HTTPS on the library's network: the box's own certificate authority, and the server certificate
it signs for the box's names and addresses (`poste-public tls init`, docs/install.md).

DATA_DIR/tls/ (0700) holds:
    ca.pem       the authority's certificate: the file to install on the desk's PCs
    ca.key       its private key (0600)
    server.pem   the server's certificate, then the authority's (TLS_CERT)
    server.key   the server's private key (0600; TLS_KEY)

The authority may only certify private names and addresses (a name constraint): the names given
when it was made, `.local`, `.lan`, `.internal`, `.home.arpa`, `localhost`, and the private,
loopback and link-local address ranges. A desk PC that trusts it therefore trusts nothing else
with it, even if its key were stolen from the box. Running `tls init` again keeps the authority
(nothing to reinstall on the PCs) and issues a new server certificate.

`cryptography` is imported here only, when a command or a TLS server needs it: the serving process
without TLS does not load it.
"""
import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TLS_DIR = 'tls'
CA_CERT, CA_KEY = 'ca.pem', 'ca.key'
SERVER_CERT, SERVER_KEY = 'server.pem', 'server.key'
CA_DAYS = 3650
SERVER_DAYS = 825          # the longest some browsers accept for a server certificate
WARN_DAYS = 30             # the nightly job and /api/health/ warn this long before the end
PRIVATE_SUFFIXES = ('local', 'lan', 'internal', 'home.arpa', 'localhost')
PRIVATE_NETWORKS = ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16',
                    '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10')


class TlsError(Exception):
    """A problem the operator can fix; the message says how, in one line."""


@dataclass
class Issued:
    folder: str
    ca_created: bool
    ca_fingerprint: str
    names: list
    addresses: list
    expires: datetime          # naive UTC


def folder(data_dir):
    return os.path.join(data_dir, TLS_DIR)


def default_names():
    host = socket.gethostname().strip().lower()
    names = ['localhost']
    if host and host != 'localhost':
        names[:0] = [host] if host.endswith('.local') or '.' in host else [host, f'{host}.local']
    return names


def default_addresses():
    """Loopback, and the address this box uses on its network (found without sending a packet)."""
    found = ['127.0.0.1']
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(('192.0.2.1', 9))   # a documentation address: only the route is looked up
            address = probe.getsockname()[0]
        if address not in found and not address.startswith('0.'):
            found.append(address)
    except OSError:
        pass
    return found


def _check_names(names, addresses):
    clean_names, clean_addresses = [], []
    for name in names:
        name = name.strip().lower().rstrip('.')
        if not name or len(name) > 253 or not all(
                part and len(part) <= 63 and part.replace('-', '').isalnum() and part.isascii()
                for part in name.split('.')):
            raise TlsError(f'--name {name!r}: not a host name')
        if name not in clean_names:
            clean_names.append(name)
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            raise TlsError(f'--ip {address!r}: not an IP address') from None
        if ip not in clean_addresses:
            clean_addresses.append(ip)
    return clean_names, clean_addresses


def init(data_dir, names=(), addresses=(), *, now=None, new_authority=False):
    """Write the authority (unless one exists and `new_authority` is false) and a new server
    certificate for the default names and addresses plus the ones given. Returns Issued."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names, addresses = _check_names(default_names() + list(names), default_addresses() + list(addresses))
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=timezone.utc, microsecond=0)
    where = folder(data_dir)
    os.makedirs(where, mode=0o700, exist_ok=True)
    os.chmod(where, 0o700)

    ca_cert_path, ca_key_path = os.path.join(where, CA_CERT), os.path.join(where, CA_KEY)
    ca_created = new_authority or not (os.path.exists(ca_cert_path) and os.path.exists(ca_key_path))
    if ca_created:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Poste Public'),
            x509.NameAttribute(NameOID.COMMON_NAME, f'Poste Public - autorité locale de {names[0]}'[:64]),
        ])
        permitted = ([x509.DNSName(n) for n in dict.fromkeys(list(PRIVATE_SUFFIXES) + names)]
                     + [x509.IPAddress(ipaddress.ip_network(net)) for net in PRIVATE_NETWORKS]
                     + [x509.IPAddress(ipaddress.ip_network(ip)) for ip in addresses
                        if not any(ip in ipaddress.ip_network(net) for net in PRIVATE_NETWORKS)])
        ca_cert = (x509.CertificateBuilder()
                   .subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(now + timedelta(days=CA_DAYS))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
                                  critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    else:
        ca_cert, ca_key = _load_authority(ca_cert_path, ca_key_path)
        _check_permitted(ca_cert, names, addresses)

    server_key = ec.generate_private_key(ec.SECP256R1())
    expires = min(now + timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    server_cert = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                   .issuer_name(ca_cert.subject)
                   .public_key(server_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(expires)
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.DNSName(n) for n in names] + [x509.IPAddress(ip) for ip in addresses]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))

    if ca_created:
        _write(ca_key_path, _key_pem(ca_key), 0o600)
        _write(ca_cert_path, _cert_pem(ca_cert), 0o644)
    _write(os.path.join(where, SERVER_KEY), _key_pem(server_key), 0o600)
    _write(os.path.join(where, SERVER_CERT), _cert_pem(server_cert) + _cert_pem(ca_cert), 0o644)
    return Issued(where, ca_created, fingerprint(_cert_pem(ca_cert)), names, [str(ip) for ip in addresses],
                  expires.replace(tzinfo=None))


def _load_authority(cert_path, key_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    try:
        with open(cert_path, 'rb') as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(key_path, 'rb') as f:
            key = load_pem_private_key(f.read(), password=None)
    except (OSError, ValueError) as exc:
        raise TlsError(f'cannot read the authority in {os.path.dirname(cert_path)} ({exc}); '
                       'run again with --new-authority to make a new one') from None
    return cert, key


def _check_permitted(ca_cert, names, addresses):
    """A new server certificate must stay within what the existing authority may certify."""
    from cryptography import x509
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return
    dns = [g.value for g in constraints.permitted_subtrees or () if isinstance(g, x509.DNSName)]
    nets = [g.value for g in constraints.permitted_subtrees or () if isinstance(g, x509.IPAddress)]
    for name in names:
        if not any(name == d or name.endswith('.' + d) for d in dns):
            raise TlsError(f'{name}: the existing authority may not certify this name; run again with '
                           '--new-authority (then install the new authority on the desk PCs)')
    for ip in addresses:
        if not any(ip.version == net.version and ip in net for net in nets):
            raise TlsError(f'{ip}: the existing authority may not certify this address; run again with '
                           '--new-authority (then install the new authority on the desk PCs)')


def _key_pem(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    from cryptography.hazmat.primitives import serialization
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode):
    """Write `path` whole or not at all, with `mode` from its creation (a key is never readable by
    others, not even for an instant)."""
    temp = f'{path}.{os.getpid()}.tmp'
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise


# -- reading certificates ---------------------------------------------------------------------

def _first_certificate(pem_or_path):
    from cryptography import x509
    data = pem_or_path
    if isinstance(pem_or_path, str):
        try:
            with open(pem_or_path, 'rb') as f:
                data = f.read()
        except OSError as exc:
            raise TlsError(f'cannot read {pem_or_path}: {exc.strerror}') from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise TlsError(f'{pem_or_path if isinstance(pem_or_path, str) else "certificate"}: '
                       'not a PEM certificate') from None


def fingerprint(pem_or_path, algorithm='sha256'):
    """The certificate's fingerprint as browsers and Windows show it: AB:CD:…"""
    from cryptography.hazmat.primitives import serialization
    der = _first_certificate(pem_or_path).public_bytes(serialization.Encoding.DER)
    return ':'.join(f'{b:02X}' for b in hashlib.new(algorithm, der).digest())


def expiry(pem_or_path):
    """When the (first) certificate of a PEM file or bytes ends, naive UTC."""
    return _first_certificate(pem_or_path).not_valid_after_utc.replace(tzinfo=None)


def subject_names(pem_or_path):
    from cryptography import x509
    cert = _first_certificate(pem_or_path)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName) + san.get_values_for_type(x509.IPAddress)]


def certificate_state(expires, now):
    """'ok', 'expires_soon' (within WARN_DAYS) or 'expired', for /api/health/ and the nightly job."""
    if expires <= now:
        return 'expired'
    if expires - now <= timedelta(days=WARN_DAYS):
        return 'expires_soon'
    return 'ok'
