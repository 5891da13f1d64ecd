"""The kiosk-only distribution (kiosk/pyproject.toml, `make kiosk`): built from this repository,
installed with pip in a fresh virtual environment from its folder alone (as from a USB stick), with
none of the server's dependencies; then the installed kiosk runs on a virtual screen against a live
server, with the configuration file the Postes page gives, and the web kiosk's address works too."""
import json
import os
import subprocess
import sys
import venv

import pytest

from tests.kiosk_support import KioskProcess, VirtualScreen, have_virtual_screen, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_ONLY = {'gevent', 'gevent-websocket', 'peewee', 'bcrypt', 'bottle', 'huey', 'pyjwt', 'cryptography',
               'swagger-ui-bundle', 'psycopg', 'greenlet'}
POSTE_IP = '10.0.0.61'


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(folder of the built distribution, the fresh environment's bin folder)."""
    folder = tmp_path_factory.mktemp('kiosk-dist')
    dist, env = folder / 'dist', folder / 'venv'
    subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'build-kiosk'), '--out', str(dist)],
                   check=True, capture_output=True, timeout=300)
    venv.create(env, with_pip=True)
    bin_dir = env / ('Scripts' if os.name == 'nt' else 'bin')
    subprocess.run([str(bin_dir / 'python'), '-m', 'pip', 'install', '--quiet', '--no-index', '--find-links', str(dist),
                    'poste-public-kiosk'], check=True, capture_output=True, timeout=300, cwd=str(folder))
    return dist, bin_dir


def test_the_folder_holds_the_kiosk_its_one_dependency_and_the_pcs_kit(installed):
    dist, _ = installed
    wheels = sorted(name for name in os.listdir(dist) if name.endswith('.whl'))
    assert len(wheels) == 2
    assert wheels[0].startswith('poste_public_kiosk-') and wheels[0].endswith('-py3-none-any.whl')   # pure Python
    assert wheels[1].startswith('websocket_client-') and wheels[1].endswith('-py3-none-any.whl')
    assert sorted(os.listdir(dist / 'windows')) == ['fin-de-session.cmd']
    assert sorted(os.listdir(dist / 'linux')) == ['50-poste-public-kiosk.rules', 'fin-de-session.sh',
                                                  'poste-public-fin-de-session.service',
                                                  'poste-public-kiosk.service']


def test_pip_installs_the_kiosk_alone(installed, tmp_path):
    _, bin_dir = installed
    listed = subprocess.run([str(bin_dir / 'python'), '-m', 'pip', 'list', '--format=json'], check=True,
                            capture_output=True, text=True).stdout
    packages = {p['name'].lower() for p in json.loads(listed)} - {'pip', 'setuptools'}
    assert packages == {'poste-public-kiosk', 'websocket-client'}
    assert not packages & SERVER_ONLY
    # Outside the checkout, the environment's own copy: the kiosk and the shared words, no server.
    probe = ('import importlib.util, json, appliance; '
             'print(json.dumps([appliance.__file__, importlib.util.find_spec("appliance.server") is None, '
             'importlib.util.find_spec("appliance.kiosk.screen") is not None]))')
    where, no_server, has_kiosk = json.loads(subprocess.run(
        [str(bin_dir / 'python'), '-c', probe], check=True, capture_output=True, text=True, cwd=str(tmp_path)).stdout)
    assert where.startswith(str(bin_dir.parent)) and no_server and has_kiosk
    helped = subprocess.run([str(bin_dir / 'poste-public-kiosk'), '--help'], capture_output=True, text=True)
    assert helped.returncode == 0 and 'poste-public-kiosk' in helped.stdout


@pytest.mark.skipif(not have_virtual_screen() and not os.environ.get('CI'),
                    reason='needs Xvfb and xdotool (apt-get install xvfb xdotool)')
def test_the_downloaded_configuration_runs_the_installed_kiosk(installed, live, browser, tmp_path):
    from tests.browser import expect
    from tests.test_dashboard import add_account, log_in
    from appliance.kiosk.screen import TITLE_LOCK, TITLE_TIMER

    _, bin_dir = installed
    live.api('PUT', '/api/bibliotheque/', {'nom': 'Médiathèque Jules Verne'}, expect=200)
    add_account(live, 'claire', role='admin')

    # The Postes page: a new poste, then its kiosk's configuration file, downloaded.
    context = browser.new_context(locale='fr-FR', viewport={'width': 1366, 'height': 768}, accept_downloads=True)
    page = context.new_page()
    log_in(page, live, 'claire')
    page.click('nav a[href="#/postes"]')
    page.click('text=Nouveau poste')
    page.fill('input[name=nom]', 'Poste 12')
    page.fill('input[name=ip_address]', POSTE_IP)
    page.click('text=Ajouter le poste')
    expect(page.locator('#kiosk-setup-title')).to_have_text('Kiosque de Poste 12 : à configurer maintenant')
    with page.expect_download() as download:
        page.click('#kiosk-ini')
    assert download.value.suggested_filename == 'kiosk-poste-12.ini'
    ini = tmp_path / 'kiosk.ini'
    download.value.save_as(ini)
    text = ini.read_bytes().decode('utf-8')    # CRLF line ends: Windows' Notepad shows it right
    assert f'server = {live.base_url}\r\n' in text and f'poste = {POSTE_IP}\r\n' in text
    assert 'library_name = Médiathèque Jules Verne' in text
    web_address = page.locator('#kiosk-address').input_value()
    context.close()
    poste = next(p for p in live.api('GET', '/api/postes/')['results'] if p['ip_address'] == POSTE_IP)

    # The installed kiosk, with that file as it came, on a virtual screen.
    screen = VirtualScreen()
    kiosk = KioskProcess([str(bin_dir / 'poste-public-kiosk'), '--config', str(ini)], str(tmp_path / 'kiosk.log'),
                         env={'DISPLAY': screen.display, 'KIOSK_STATE_FILE': str(tmp_path / 'session.json')})
    try:
        kiosk.wait_log('| online', timeout=20)
        wait_until(lambda: screen.window(TITLE_LOCK), 5, message='lock screen')
        assert live.api('GET', f'/api/postes/{poste["id"]}/')['en_ligne'] is True
        session = live.make_session(poste['id'], duree=1800)
        screen.type(session['code_acces'].lower())
        screen.key('Return')
        wait_until(lambda: screen.window(TITLE_TIMER) and not screen.window(TITLE_LOCK), 10, message='countdown')
        shown = live.api('GET', f'/api/sessions/{session["id"]}/')
        assert shown['statut'] == 'active' and shown['poste'] == poste['id']
        live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
        wait_until(lambda: screen.window(TITLE_LOCK), 5, message='locked again')
    finally:
        kiosk.stop()
        screen.stop()
    assert 'Traceback' not in kiosk.log()

    # The web kiosk's address from the same panel: the library's name, then the session's bar.
    context = browser.new_context(locale='fr-FR')
    page = context.new_page()
    try:
        page.goto(web_address)
        expect(page.locator('#library')).to_have_text('Médiathèque Jules Verne')
        expect(page.locator('#code')).to_be_enabled()
        live.api('PATCH', '/api/bibliotheque/', {'page_accueil': live.base_url + '/static/favicon.svg'}, expect=200)
        session = live.make_session(poste['id'], duree=1800)
        page.fill('#code', session['code_acces'])
        page.click('#code-submit')
        expect(page.locator('#session-library')).to_have_text('Médiathèque Jules Verne')
        expect(page.locator('#remaining')).to_have_text('30:00')
        expect(page.locator('#home-button')).to_be_visible()
        expect(page.locator('#home')).to_have_attribute('src', live.base_url + '/static/favicon.svg')
    finally:
        context.close()
