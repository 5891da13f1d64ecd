"""The Tk kiosk on a virtual screen (Xvfb), driven like a person would with xdotool, against a real
server. Which window shows is read from X itself: the lock screen, the countdown, the warning."""
import os
import sys
import time

import pytest

from tests.kiosk_support import (
    KioskProcess, VirtualScreen, end_runs, have_virtual_screen, wait_until, write_config)
from tests.live import LiveServer
from appliance.kiosk.admin import hash_secret
from appliance.kiosk.screen import TITLE_LOCK, TITLE_MAINTENANCE, TITLE_NOTICE, TITLE_TIMER

POSTE_IP = '10.0.0.41'
ADMIN_SECRET = 'maintenance-42'

# CI installs Xvfb and xdotool; a developer without them still runs everything else.
pytestmark = pytest.mark.skipif(not have_virtual_screen() and not os.environ.get('CI'),
                                reason='needs Xvfb and xdotool (apt-get install xvfb xdotool)')


@pytest.fixture
def screen():
    display = VirtualScreen()
    yield display
    display.stop()


class Kiosk:
    """One poste on a live server, and its Tk kiosk on the virtual screen."""

    def __init__(self, server, screen, tmp_path, **config):
        self.server = server
        self.screen = screen
        self.poste = server.make_poste('Poste Écran', POSTE_IP)
        self.end_log = str(tmp_path / 'end.log')
        self.config_path = write_config(str(tmp_path / 'kiosk.ini'), server.base_url, POSTE_IP,
                                        self.poste['kiosk_token'], str(tmp_path / 'session.json'),
                                        self.end_log, **config)
        self.log_path = str(tmp_path / 'kiosk.log')
        self.process = None

    def start(self):
        self.process = KioskProcess(
            [sys.executable, '-m', 'appliance', 'kiosk', '--config', self.config_path],
            self.log_path, env={'DISPLAY': self.screen.display})
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def shows(self, title):
        return self.screen.window(title) is not None

    def wait_shows(self, title, timeout=5, alone=True):
        """Waits until the window `title` shows (and, with `alone`, the lock or countdown that it
        replaces is gone)."""
        others = {TITLE_LOCK: [TITLE_TIMER], TITLE_TIMER: [TITLE_LOCK],
                  TITLE_MAINTENANCE: [TITLE_LOCK, TITLE_TIMER]}.get(title, []) if alone else []
        return wait_until(lambda: self.shows(title) and not any(self.shows(o) for o in others),
                          timeout, step=0.02, message=title)

    def wait_ready(self):
        self.process.wait_log('| online', timeout=15)
        self.wait_shows(TITLE_LOCK)

    def type_code(self, code):
        self.screen.type(code)
        self.screen.key('Return')

    def unlock(self, duree=1800):
        session = self.server.make_session(self.poste['id'], duree=duree)
        self.type_code(session['code_acces'].lower())
        self.wait_shows(TITLE_TIMER)
        return session

    def session(self, session):
        return self.server.api('GET', '/api/sessions/{}/'.format(session['id']), expect=200)

    def click(self, title, x_fraction=0.5, from_bottom=20):
        """Clicks in the window `title`, `x_fraction` of the way across and `from_bottom` pixels
        above its bottom edge (where its buttons are)."""
        window = wait_until(lambda: self.screen.window(title), 5, message=title)
        geometry = self.screen.xdotool('getwindowgeometry', '--shell', window)
        values = dict(line.split('=') for line in geometry.splitlines())
        width, height = int(values['WIDTH']), int(values['HEIGHT'])
        self.screen.xdotool('mousemove', '--window', window, str(int(width * x_fraction)),
                            str(height - from_bottom), 'click', '1')


@pytest.fixture
def kiosk(live, screen, tmp_path):
    kiosk = Kiosk(live, screen, tmp_path, admin_secret_hash=hash_secret(ADMIN_SECRET)).start()
    yield kiosk
    kiosk.stop()


def test_typing_a_code_unlocks_and_a_wrong_one_does_not(kiosk):
    kiosk.wait_ready()
    kiosk.type_code('zzz999')
    kiosk.process.wait_log('Code inconnu ou expiré.')
    assert kiosk.shows(TITLE_LOCK) and not kiosk.shows(TITLE_TIMER)
    session = kiosk.unlock()
    assert kiosk.session(session)['statut'] == 'active'


def test_staff_termination_locks_within_a_second(kiosk):
    kiosk.wait_ready()
    session = kiosk.unlock()
    kiosk.server.api('POST', '/api/sessions/{}/terminate/'.format(session['id']), {}, expect=200)
    kiosk.wait_shows(TITLE_LOCK, timeout=1)
    wait_until(lambda: end_runs(kiosk.end_log) == 1, 5, message='end command')


def test_end_my_session_button(kiosk):
    kiosk.wait_ready()
    session = kiosk.unlock()
    kiosk.click(TITLE_TIMER)                            # "Terminer ma session"
    time.sleep(0.3)
    assert kiosk.shows(TITLE_TIMER)                     # it asks first
    kiosk.click(TITLE_TIMER, x_fraction=0.3)            # "Oui, terminer"
    kiosk.wait_shows(TITLE_LOCK)
    ended = wait_until(lambda: kiosk.session(session)['statut'] == 'terminee' and kiosk.session(session),
                       5, message='session ended')
    assert ended['raison_fin'] == 'fermeture_utilisateur'


def test_a_rebooted_kiosk_resumes_its_session(kiosk):
    kiosk.wait_ready()
    session = kiosk.unlock()
    kiosk.process.kill()
    wait_until(lambda: not kiosk.shows(TITLE_TIMER), 2, message='the killed kiosk gone')
    kiosk.start()
    kiosk.wait_shows(TITLE_TIMER, timeout=10)           # no code typed
    kiosk.process.wait_log('| online')
    assert kiosk.session(session)['statut'] == 'active'
    assert not kiosk.shows(TITLE_LOCK) and end_runs(kiosk.end_log) == 0


def test_admin_escape(kiosk):
    kiosk.wait_ready()
    kiosk.screen.key('ctrl+shift+F12')
    kiosk.screen.type('pas-le-bon')
    kiosk.screen.key('Return')
    kiosk.process.wait_log('admin escape: wrong secret')
    assert kiosk.shows(TITLE_LOCK) and not kiosk.shows(TITLE_MAINTENANCE)
    kiosk.screen.type(ADMIN_SECRET)
    kiosk.screen.key('Return')
    kiosk.wait_shows(TITLE_MAINTENANCE)
    kiosk.click(TITLE_MAINTENANCE, x_fraction=0.25)      # "Reverrouiller"
    kiosk.wait_shows(TITLE_LOCK)
    assert not kiosk.shows(TITLE_MAINTENANCE)


def test_a_warning_shows_prominently(screen, tmp_path):
    server = LiveServer(tmp_path, WARNING_TIMES='57').start()
    kiosk = Kiosk(server, screen, tmp_path).start()
    try:
        kiosk.wait_ready()
        kiosk.unlock(duree=60)
        kiosk.wait_shows(TITLE_NOTICE, timeout=6, alone=False)
        kiosk.click(TITLE_NOTICE, from_bottom=150)      # on the message: it closes
        wait_until(lambda: not kiosk.shows(TITLE_NOTICE), 2, message='warning dismissed')
        assert kiosk.shows(TITLE_TIMER)
    finally:
        kiosk.stop()
        server.stop()


@pytest.mark.slow
def test_server_stopped_mid_session_still_locks_at_zero(kiosk):
    kiosk.wait_ready()
    kiosk.unlock(duree=60)
    unlocked = time.monotonic()
    kiosk.server.stop()
    kiosk.process.wait_log('Serveur injoignable')
    assert kiosk.shows(TITLE_TIMER)
    kiosk.wait_shows(TITLE_LOCK, timeout=70)
    assert 57 <= time.monotonic() - unlocked <= 62
    wait_until(lambda: end_runs(kiosk.end_log) == 1, 5, message='end command')
