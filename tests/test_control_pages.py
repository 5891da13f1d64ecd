"""Live control of the postes in real headless Chromium against a real server: the web kiosk
(/kiosk/) hears messages, commands, the pause and the answers to its requests, and ends an idle
session; the dashboard sends them. (A module of its own: tests/browser.py skips its importer where
Chromium is missing, and the API tests of tests/test_control.py must run there.)"""
import json
import socket


from tests.browser import expect
from tests.kiosk_support import wait_until
from tests.live import kiosk, recv_action, recv_first

PASSWORD = 'Accueil-Mediatheque-2026'
SCREENSHOTS = '/tmp/control-screenshots'

POSTE_IP = '10.0.0.61'


def kiosk_page(browser, live, poste, clock=False):
    context = browser.new_context(locale='fr-FR')
    page = context.new_page()
    if clock:
        page.clock.install()
    page.goto('{}/kiosk/#poste={}&token={}'.format(live.base_url, POSTE_IP, poste['kiosk_token']))
    expect(page.locator('#code')).to_be_enabled()
    return page


def open_session(live, poste, page, duree=1800):
    session = live.make_session(poste['id'], duree=duree)
    page.fill('#code', session['code_acces'])
    page.click('#code-submit')
    expect(page.locator('#session')).to_be_visible()
    return session


def test_the_web_kiosk_under_live_control(browser, live):
    poste = live.make_poste('Poste Web', POSTE_IP)
    page = kiosk_page(browser, live, poste)
    try:
        # A message reaches the lock screen, and is closed by the visitor.
        live.api('POST', f'/api/postes/{poste["id"]}/message/', {'message': 'Bonjour à tous'}, expect=200)
        expect(page.locator('#desk-message-text')).to_have_text('Bonjour à tous', timeout=1000)
        page.click('#desk-message-ok')
        expect(page.locator('#desk-message')).to_be_hidden()
        session = open_session(live, poste, page)

        # Pause from the page: the lock screen, the time frozen; back with the visitor's code.
        page.click('#pause')
        expect(page.locator('#paused')).to_be_visible(timeout=1000)
        expect(page.locator('#feedback')).to_have_text('Session en pause : entrez votre code pour reprendre')
        frozen = page.locator('#paused-left').inner_text()
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'suspendue'
        page.wait_for_timeout(1200)
        assert page.locator('#paused-left').inner_text() == frozen
        page.fill('#code', 'ZZZZZZ')
        page.click('#code-submit')
        expect(page.locator('#feedback')).to_have_text('Ce n’est pas le code de cette session.')
        page.fill('#code', session['code_acces'])
        page.click('#code-submit')
        expect(page.locator('#session')).to_be_visible(timeout=1000)
        assert live.api('GET', f'/api/sessions/{session["id"]}/')['statut'] == 'active'

        # Staff pause it (the lock command) and resume it.
        live.api('POST', f'/api/postes/{poste["id"]}/commande/', {'commande': 'verrouiller'}, expect=200)
        expect(page.locator('#feedback')).to_have_text('Poste verrouillé par l’accueil.', timeout=1000)
        expect(page.locator('#paused')).to_be_visible()
        live.api('POST', f'/api/sessions/{session["id"]}/reprise/', expect=200)
        expect(page.locator('#session')).to_be_visible(timeout=1000)

        # A request for more time, granted at once (nobody waits).
        page.select_option('#request-seconds', '900')
        page.click('#request')
        expect(page.locator('#notice-text')).to_have_text('Temps ajouté : 15 minutes.', timeout=1000)
        page.click('#notice-ok')
        # Someone waits now: the request waits for staff, who refuse it with a reason.
        live.make_session(None, duree=600, nom='Patient')
        page.click('#request')
        expect(page.locator('#notice-text')).to_have_text('Demande transmise à l’accueil.', timeout=1000)
        expect(page.locator('#request')).to_be_disabled()
        demande = live.api('GET', '/api/demandes/')['results'][0]
        live.api('POST', f'/api/demandes/{demande["id"]}/refuser/', {'motif': 'Salle complète'}, expect=200)
        expect(page.locator('#notice-text')).to_have_text('Demande refusée : Salle complète', timeout=1000)
        expect(page.locator('#request')).to_be_enabled()

        # A forced shutdown ends the session: the lock screen says so.
        live.api('POST', f'/api/postes/{poste["id"]}/commande/', {'commande': 'eteindre', 'force': True}, expect=200)
        expect(page.locator('#lock')).to_be_visible(timeout=1000)
        expect(page.locator('#feedback')).to_have_text('Arrêt du poste demandé par l’accueil…')
    finally:
        page.context.close()


def test_the_web_kiosk_ends_an_idle_session(browser, live_server):
    live = live_server(INACTIVITY_TIMEOUT='120')
    poste = live.make_poste('Poste Web', POSTE_IP)
    page = kiosk_page(browser, live, poste, clock=True)   # the page's clock moves when told
    try:
        session = open_session(live, poste, page)
        page.clock.run_for(61_000)                           # 59 s before the end: warned
        expect(page.locator('#notice-text')).to_contain_text('Êtes-vous toujours là ?')
        page.mouse.move(200, 200)                            # input: the warning goes
        page.mouse.move(250, 260)
        expect(page.locator('#notice')).to_be_hidden()
        page.clock.run_for(121_000)                          # no input since: the session ends
        expect(page.locator('#feedback')).to_have_text('Session terminée faute d’activité.')
        wait_until(lambda: live.api('GET', f'/api/sessions/{session["id"]}/')['raison_fin'] == 'inactivite',
                   timeout=3)
    finally:
        page.context.close()


def heard(ws, action):
    """The kiosk's next message with this action, whatever comes before it."""
    return recv_first(ws, lambda m: m.get('action') == action, timeout=2)


def log_in(browser, live, width=1366, height=768):
    live.api('POST', '/api/comptes/', {'username': 'bibliothecaire', 'password': PASSWORD, 'role': 'staff'}, expect=201)
    context = browser.new_context(locale='fr-FR', viewport={'width': width, 'height': height})
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda error: errors.append(error))
    page.goto(live.base_url + '/')
    page.fill('input[name=username]', 'bibliothecaire')
    page.fill('input[name=password]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#live')).to_have_text('En direct')
    return page, errors


def test_the_dashboard_controls_the_room(browser, live_server, tmp_path):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(('127.0.0.1', 0))
    receiver.settimeout(3)
    live = live_server(WOL_ADDRESS=f'127.0.0.1:{receiver.getsockname()[1]}', EXTENSION_AUTO='false')
    poste = live.make_poste('Poste 1', '10.0.0.71')
    asleep = live.api('POST', '/api/postes/', {'nom': 'Poste 2', 'ip_address': '10.0.0.72',
                                               'mac_address': '00:11:22:33:44:55'}, expect=201)
    session = live.make_session(poste['id'], duree=1800)
    ws, _ = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    recv_action(ws, 'session_started')
    page, errors = log_in(browser, live)
    try:
        tile = page.locator(f'.tile[data-poste="{poste["id"]}"]')
        other = page.locator(f'.tile[data-poste="{asleep["id"]}"]')
        # A message to this poste, through the tile's dialog.
        tile.locator('button[data-action=message]').click()
        page.fill('#message-text', 'Votre impression est prête.')
        page.locator('dialog button[type=submit]').click()
        assert heard(ws, 'message')['message'] == 'Votre impression est prête.'
        expect(page.locator('#toast')).to_have_text('Message envoyé à Poste 1.')
        # Pause, then resume, from the tile; the countdown stands still while paused.
        tile.locator('button[data-action=pause]').click()
        assert heard(ws, 'paused')
        expect(tile.locator('.paused-line')).to_be_visible()
        frozen = tile.locator('.remaining').inner_text()
        page.wait_for_timeout(1500)
        assert tile.locator('.remaining').inner_text() == frozen
        tile.locator('button[data-action=resume]').click()
        assert heard(ws, 'resumed')
        expect(tile.locator('button[data-action=pause]')).to_be_visible()
        # A request for more time appears in the bar, with its badge; accepted from there.
        ws.send(json.dumps({'type': 'request_time', 'seconds': 900}))
        bar = page.locator('.requests')
        expect(bar).to_be_visible()
        expect(bar.locator('.count')).to_have_text('1')
        expect(bar).to_contain_text('Poste 1')
        expect(bar).to_contain_text('15 min')
        page.screenshot(path=f'{SCREENSHOTS}/salle-1366.png')
        bar.get_by_role('button', name='Accepter').click()
        assert heard(ws, 'add_time')['seconds'] == 900
        expect(bar).to_be_hidden()
        # Another, refused with a reason shown to the visitor.
        ws.send(json.dumps({'type': 'request_time', 'seconds': 600}))
        expect(bar.locator('.count')).to_have_text('1')
        bar.locator('input').fill('Salle complète')
        bar.get_by_role('button', name='Refuser').click()
        assert heard(ws, 'request_refused')['motif'] == 'Salle complète'
        # A message to every connected kiosk.
        page.fill('#broadcast-text', 'Fermeture dans 15 minutes')
        page.get_by_role('button', name='Envoyer à tous').click()
        assert heard(ws, 'message')['message'] == 'Fermeture dans 15 minutes'
        expect(page.locator('#toast')).to_have_text('Message envoyé à 1 poste(s).')
        # Lock from the tile: the session is paused, the kiosk locks.
        tile.locator('button[data-action=lock]').click()
        assert heard(ws, 'command')['commande'] == 'verrouiller'
        # Wake the poste that is off: on its tile, and with « Tout allumer ».
        expect(other.locator('button[data-action=wake]')).to_be_visible()
        other.locator('button[data-action=wake]').click()
        assert receiver.recvfrom(1024)[0] == b'\xff' * 6 + bytes.fromhex('001122334455') * 16
        page.get_by_role('button', name='Tout allumer').click()
        assert receiver.recvfrom(1024)[0][6:12] == bytes.fromhex('001122334455')
        expect(page.locator('#toast')).to_have_text('Réveil envoyé à 1 poste(s).')
        assert errors == []
    finally:
        receiver.close()
        page.context.close()


def test_the_room_with_its_controls_on_a_tall_screen(browser, live):
    poste = live.make_poste('Poste 1', '10.0.0.71')
    live.api('POST', '/api/postes/', {'nom': 'Poste 2', 'ip_address': '10.0.0.72', 'mac_address': '00:11:22:33:44:56'},
             expect=201)
    session = live.make_session(poste['id'], duree=1800)
    ws, _ = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    recv_action(ws, 'session_started')
    live.make_session(None, duree=600, nom='Patient')
    ws.send(json.dumps({'type': 'request_time', 'seconds': 1800}))
    page, errors = log_in(browser, live, 800, 1280)
    try:
        expect(page.locator('.requests .count')).to_have_text('1')
        page.screenshot(path=f'{SCREENSHOTS}/salle-800.png', full_page=True)
        assert errors == []
    finally:
        page.context.close()
