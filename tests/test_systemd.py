"""The service under systemd: READY, the watchdog fed while healthy, STOPPING on SIGTERM."""
import socket


def test_notify_protocol(tmp_path, live_server):
    path = str(tmp_path / 'notify.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(15)
    server = live_server(NOTIFY_SOCKET=path, WATCHDOG_USEC='1000000')
    try:
        seen = []
        while seen.count('WATCHDOG=1') < 2:
            seen.append(listener.recv(256).decode())
        assert 'READY=1' in seen
        assert server.stop() == 0
        rest = []
        while 'STOPPING=1' not in rest:
            rest.append(listener.recv(256).decode())
    finally:
        server.stop()
        listener.close()


def test_unit_file_is_hardened():
    from tests.live import ROOT
    unit, environment = {}, []
    with open(f'{ROOT}/systemd/poste-public.service') as f:
        for line in f:
            if '=' in line and not line.startswith('#'):
                key, value = line.strip().split('=', 1)
                unit[key] = value
                if key == 'Environment':
                    environment.append(value)
    assert unit['Type'] == 'notify' and int(unit['WatchdogSec']) > 0
    assert unit['Restart'] == 'on-failure'
    assert unit['StateDirectory'] == 'poste-public'
    assert 'DATA_DIR=/var/lib/poste-public' in environment
    assert unit['User'] == 'poste-public'
    for directive in ('NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'PrivateDevices'):
        assert unit[directive] == 'yes', directive
    assert unit['ProtectSystem'] == 'strict'
    assert unit['CapabilityBoundingSet'] == ''
