"""Live control on the Tk kiosk, on a virtual screen (Xvfb) driven with xdotool, against a real
server: a message, the pause and its resumption with the visitor's code, the desk's commands run
as configured system commands (harmless ones here: they append to a file), and inactivity read
from X's own idle time. (A module of its own: it needs Xvfb and xdotool.)"""
import os
import sys
import time

import pytest

from appliance.kiosk.screen import TITLE_LOCK, TITLE_NOTICE, TITLE_TIMER
from tests.kiosk_support import KioskProcess, VirtualScreen, have_virtual_screen, wait_until, write_config

POSTE_IP = '10.0.0.81'
pytestmark = pytest.mark.skipif(not have_virtual_screen() and not os.environ.get('CI'),
                                reason='needs Xvfb and xdotool (apt-get install xvfb xdotool)')


def command_line(log, name):
    """A harmless stand-in for a system command: it appends its name to `log`."""
    return '{} -c "import sys; open(sys.argv[1], \'a\').write(sys.argv[2] + \'\\n\')" {} {}'.format(
        sys.executable, log, name)


def ran(log):
    try:
        with open(log, encoding='utf-8') as f:
            return f.read().split()
    except FileNotFoundError:
        return []


@pytest.fixture
def screen():
    display = VirtualScreen()
    yield display
    display.stop()


def test_the_tk_kiosk_under_live_control(live_server, screen, tmp_path):
    live = live_server(INACTIVITY_TIMEOUT='4')
    poste = live.make_poste('Poste Tk', POSTE_IP)
    commands_log = str(tmp_path / 'commands.log')
    config = write_config(str(tmp_path / 'kiosk.ini'), live.base_url, POSTE_IP, poste['kiosk_token'],
                          str(tmp_path / 'session.json'), str(tmp_path / 'end.log'),
                          lock_command=command_line(commands_log, 'verrouiller'),
                          logoff_command=command_line(commands_log, 'deconnecter'),
                          restart_command=command_line(commands_log, 'redemarrer'),
                          shutdown_command=command_line(commands_log, 'eteindre'))
    kiosk = KioskProcess([sys.executable, '-m', 'appliance', 'kiosk', '--config', config],
                         str(tmp_path / 'kiosk.log'), env={'DISPLAY': screen.display})
    shows = lambda title: screen.window(title) is not None   # noqa: E731

    def wait_shows(title, timeout=2):
        wait_until(lambda: shows(title), timeout, step=0.02, message=title)

    try:
        kiosk.wait_log('| online', timeout=15)
        wait_shows(TITLE_LOCK)
        kiosk.wait_log('system idle time from X11Idle')

        # A message of the desk shows on the lock screen; a click closes it.
        live.api('POST', f'/api/postes/{poste["id"]}/message/', {'message': 'Bonjour depuis l’accueil'}, expect=200)
        wait_shows(TITLE_NOTICE, timeout=1)
        kiosk.wait_log('screen: message | Bonjour depuis l’accueil')
        window = screen.window(TITLE_NOTICE)
        screen.xdotool('mousemove', '--window', window, '20', '20', 'click', '1')
        wait_until(lambda: not shows(TITLE_NOTICE), 2, message='message closed')

        # A session; staff pause it: the lock screen, the time frozen; the visitor's code resumes it.
        session = live.make_session(poste['id'], duree=1800)
        screen.type(session['code_acces'].lower())
        screen.key('Return')
        wait_shows(TITLE_TIMER)
        live.api('POST', f'/api/sessions/{session["id"]}/pause/', expect=200)
        wait_shows(TITLE_LOCK, timeout=1)
        kiosk.wait_log('screen: paused')
        assert not shows(TITLE_TIMER)
        screen.type(session['code_acces'])
        screen.key('Return')
        wait_shows(TITLE_TIMER)
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'active'
        # The visitor's own « Pause » button (above « Terminer ma session », on the left).
        window = screen.window(TITLE_TIMER)
        geometry = dict(line.split('=') for line in screen.xdotool('getwindowgeometry', '--shell', window).splitlines())
        screen.xdotool('mousemove', '--window', window, str(int(int(geometry['WIDTH']) * 0.15)),
                       str(int(geometry['HEIGHT']) - 58), 'click', '1')
        wait_shows(TITLE_LOCK, timeout=1)
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'suspendue'
        screen.type(session['code_acces'])
        screen.key('Return')
        wait_shows(TITLE_TIMER)
        # « Plus de temps », next to it: granted at once (nobody waits), and said.
        window = screen.window(TITLE_TIMER)
        screen.xdotool('mousemove', '--window', window, str(int(int(geometry['WIDTH']) * 0.7)),
                       str(int(geometry['HEIGHT']) - 58), 'click', '1')
        wait_shows(TITLE_NOTICE, timeout=1)
        kiosk.wait_log('Temps ajouté : 15 minutes.')
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['temps_ajoute'] == 900
        screen.xdotool('mousemove', '--window', screen.window(TITLE_NOTICE), '20', '20', 'click', '1')
        wait_until(lambda: not shows(TITLE_NOTICE), 2, message='notice closed')

        # Input keeps an idle session alive (X's idle time, reset by xdotool's pointer)...
        for x in range(6):
            screen.xdotool('mousemove', str(100 + 40 * x), '300')
            time.sleep(1)
        assert shows(TITLE_TIMER)
        # ... and none ends it, a few seconds later, with the reason said to the server.
        wait_shows(TITLE_LOCK, timeout=8)
        ended = wait_until(lambda: (lambda s: s['statut'] == 'terminee' and s)(
            live.api('GET', f'/api/sessions/{session["id"]}/')), 3, message='ended')
        assert ended['raison_fin'] == 'inactivite'
        kiosk.wait_log('Session terminée faute d’activité.')

        # The lock command, then a forced restart: the configured commands run, nothing else.
        second = live.make_session(poste['id'], duree=1800)
        screen.type(second['code_acces'])
        screen.key('Return')
        wait_shows(TITLE_TIMER)
        live.api('POST', f'/api/postes/{poste["id"]}/commande/', {'commande': 'verrouiller'}, expect=200)
        wait_shows(TITLE_LOCK, timeout=1)
        wait_until(lambda: ran(commands_log) == ['verrouiller'], 3, message='lock command')
        live.api('POST', f'/api/postes/{poste["id"]}/commande/', {'commande': 'redemarrer', 'force': True},
                 expect=200)
        wait_until(lambda: ran(commands_log) == ['verrouiller', 'redemarrer'], 3, message='restart command')
        assert live.api('GET', f'/api/sessions/{second["id"]}/')['raison_fin'] == 'fermeture_staff'
        kiosk.wait_log('Redémarrage du poste demandé par l’accueil')
    finally:
        kiosk.stop()
