"""The staff dashboard (/) in real headless Chromium against a real server, with kiosks simulated
over their WebSocket. Few tests, each a whole desk scenario; explicit waits only."""
import json
import os
import re

import pytest

from tests.browser import expect
from tests.live import kiosk, recv_action

STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'static')
PASSWORD = 'Accueil-Mediatheque-2026'


@pytest.fixture
def page(browser):
    context = browser.new_context(locale='fr-FR', viewport={'width': 1366, 'height': 768}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda error: errors.append(error))
    yield page
    context.close()
    assert errors == [], errors   # no script error on any screen


def add_account(live, username, role='staff'):
    live.api('POST', '/api/comptes/', {'username': username, 'password': PASSWORD, 'role': role}, expect=201)


def log_in(page, live, username, password=PASSWORD):
    page.goto(live.base_url + '/')
    page.fill('input[name=username]', username)
    page.fill('input[name=password]', password)
    page.click('form button[type=submit]')


def tile(page, poste):
    return page.locator(f'.tile[data-poste="{poste["id"]}"]')


def test_pages_are_served_with_nothing_from_outside(live):
    status, body = live.request('GET', '/')
    assert status == 200 and b'/static/app/main.js' in body
    for folder, _, names in os.walk(STATIC):
        if os.path.relpath(folder, STATIC).startswith('kiosk'):
            continue
        for name in names:
            path = os.path.join(folder, name)
            url = '/static/' + os.path.relpath(path, STATIC).replace(os.sep, '/')
            assert live.request('GET', url)[0] == 200, url
            with open(path, encoding='utf-8') as f:
                text = f.read()
            # (The SVG namespace is a name, not an address; the examples shown to staff load nothing.)
            assert not re.search(r'https?://(?!www\.w3\.org/2000/svg|catalogue\.exemple\.fr/|192\.168\.1\.10:8000)'
                                 r'|//cdn|@import', text), path
            assert '<script>' not in text and 'innerHTML' not in text, path   # CSP; no markup from data


def test_a_wrong_password_is_said_plainly_with_the_keyboard_only(page, live):
    page.goto(live.base_url + '/')
    expect(page.locator('input[name=username]')).to_be_focused()
    page.keyboard.type('admin')
    page.keyboard.press('Tab')
    page.keyboard.type('pas-le-bon-mot-de-passe')
    page.keyboard.press('Enter')
    expect(page.locator('.form-error')).to_have_text('Identifiants invalides.')
    expect(page.locator('.form-error')).to_be_focused()      # read out at once (role=alert, focus)
    expect(page.locator('input[name=password]')).to_have_value('')
    expect(page.locator('#topbar')).to_be_hidden()


def test_the_desk_from_first_login_to_the_end_of_a_session(page, live):
    # First run: the initial admin password must be changed; the admin then stays logged in.
    log_in(page, live, 'admin', live.initial_password())
    page.fill('input[name=old_password]', live.initial_password())
    page.fill('input[name=new_password]', PASSWORD)
    page.fill('input[name=confirmation]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#toast')).to_contain_text('Mot de passe changé')
    expect(page.locator('#topbar')).to_be_visible()
    expect(page.locator('#account')).to_have_text('admin')
    live.changed_admin_password = PASSWORD   # what the test's own API calls log in with now

    poste = live.make_poste('Poste 1', '10.0.0.11')   # appears on the room at once
    expect(tile(page, poste)).to_have_attribute('data-statut', 'disponible')
    expect(tile(page, poste).locator('.presence')).to_have_text(re.compile('^Kiosque hors ligne'))

    ws, _ = kiosk(live, poste)
    expect(tile(page, poste).locator('.presence')).to_have_text('Kiosque en ligne')

    # Register a visitor: the server's per-field errors show under their fields.
    page.click('nav a[href="#/visiteurs"]')
    page.click('a[href^="#/visiteurs/nouveau"]')
    page.fill('input[name=nom]', 'Lambert')
    page.fill('input[name=prenom]', 'Élise')
    page.check('input[name=consentement_rgpd]')
    page.click('.visitor-form button[type=submit]')
    expect(page.locator('.field-error[data-error-for=telephone]')).to_have_text(
        'Indiquez un e-mail ou un numéro de téléphone.')
    expect(page.locator('input[name=telephone]')).to_have_attribute('aria-invalid', 'true')
    page.fill('input[name=telephone]', '06 12 34 56 78')
    page.select_option('select[name=type_piece_identite]', 'cni')
    page.check('input[name=piece_identite_verifiee]')
    page.click('.visitor-form button[type=submit]')
    expect(page.locator('.detail-head h2')).to_have_text('Élise Lambert')

    # Start a session from the visitor's record: the code, large.
    page.click('text=Démarrer une session')
    expect(page.locator('.chosen-name')).to_have_text('Élise Lambert')
    page.select_option('select[name=poste]', str(poste['id']))
    page.click('label.choice:has-text("30 min")')
    page.click('text=Générer le code')
    code = page.locator('#code-acces')
    expect(code).to_have_text(re.compile(r'^[A-HJ-NP-Z2-9]{6}$'))
    code = code.inner_text()

    # Back to the room (no reload): the kiosk takes the code and the tile turns occupied at once.
    page.click('text=Retour à la salle')
    expect(tile(page, poste).locator('.pending-line')).to_contain_text(code)
    ws.send(json.dumps({'type': 'validate_code', 'code': code}))
    assert recv_action(ws, 'session_started')['temps_restant'] == 1800
    expect(tile(page, poste)).to_have_attribute('data-statut', 'occupe', timeout=1000)
    expect(tile(page, poste).locator('.visitor')).to_have_text('Élise Lambert')
    expect(tile(page, poste).locator('.remaining')).to_have_text(re.compile(r'^(30:00|29:5\d)$'))

    tile(page, poste).locator('[data-action=add-15]').click()
    assert recv_action(ws, 'add_time')['seconds'] == 900
    expect(tile(page, poste).locator('.remaining')).to_have_text(re.compile(r'^(45:00|44:5\d)$'))

    tile(page, poste).locator('[data-action=end]').click()
    page.click('dialog [data-confirm=yes]')
    assert recv_action(ws, 'close_session')['raison'] == 'fermeture_staff'
    expect(tile(page, poste)).to_have_attribute('data-statut', 'disponible')
    expect(tile(page, poste).locator('.session')).to_be_hidden()
    ws.close()

    # An administrator's backups page: one archive now, listed; unencrypted archives are said loudly.
    page.click('nav a[href="#/sauvegardes"]')
    page.click('text=Sauvegarder maintenant')
    expect(page.locator('table tbody tr')).to_have_count(1)
    expect(page.locator('table tbody tr td').nth(2)).to_have_text('Boîtier')
    expect(page.locator('[data-notice=encryption]')).to_contain_text('Sauvegardes non chiffrées')
    expect(page.locator('[data-notice=encryption]')).to_contain_text('BACKUP_PASSPHRASE')


def test_maintenance_log_export_statistics_and_an_ended_login(page, live):
    poste = live.make_poste('Poste 7', '10.0.0.17')
    session = live.make_session(poste['id'], duree=3600, nom='Morel', prenom='Jules')
    live.api('POST', '/api/sessions/validate-code/', {'code': session['code_acces']}, expect=200)
    add_account(live, 'agent')
    page.clock.install()   # the page's own clock, to reach the token refresh without waiting
    log_in(page, live, 'agent')
    expect(page.locator('#account')).to_have_text('agent')
    # Access tokens live 15 minutes: a new one is fetched a minute before the end.
    with page.expect_response('**/api/token/refresh/') as refreshed:
        page.clock.run_for(14 * 60 * 1000)
    assert refreshed.value.status == 200
    expect(page.locator('nav a[href="#/postes"]')).to_have_count(0)   # admin screens are not offered
    expect(tile(page, poste)).to_have_attribute('data-statut', 'occupe')

    # Maintenance while a session runs: the server's 409 becomes a question, then "force".
    tile(page, poste).locator('[data-action=maintenance]').click()
    expect(page.locator('dialog')).to_contain_text('Une session est en cours')
    page.click('dialog [data-confirm=yes]')
    expect(tile(page, poste)).to_have_attribute('data-statut', 'maintenance')
    tile(page, poste).locator('[data-action=service]').click()
    expect(tile(page, poste)).to_have_attribute('data-statut', 'disponible')

    # The audit log, filtered, exported for French Excel.
    page.click('nav a[href="#/journal"]')
    page.select_option('select[name=action]', 'changement_statut_poste')
    page.click('text=Filtrer')
    expect(page.locator('table.log tbody tr')).to_have_count(2)
    with page.expect_download() as download:
        page.click('text=Exporter en CSV')
    with open(download.value.path(), 'rb') as f:
        data = f.read()
    assert data.startswith(b'\xef\xbb\xbf')
    lines = data.decode('utf-8-sig').split('\r\n')
    assert lines[0] == 'Date;Action;Opérateur;Visiteur;Poste;Session;Détails;Adresse IP'
    assert len(lines) == 4 and lines[-1] == ''
    assert all(';Statut de poste changé;agent;' in line for line in lines[1:3])

    # Statistics: drawn from /api/stats/.
    page.click('nav a[href="#/statistiques"]')
    expect(page.locator('svg.chart')).to_have_count(4)   # with the use per category
    expect(page.locator('[data-total=sessions] .card-value')).to_have_text('1')

    # An administrator deactivates the account: the next action brings the login screen back, said why.
    agent = next(c for c in live.api('GET', '/api/comptes/')['results'] if c['username'] == 'agent')
    live.api('PATCH', f'/api/comptes/{agent["id"]}/', {'is_active': False}, expect=200)
    page.click('nav a[href="#/visiteurs"]')
    expect(page.locator('.login .notice')).to_have_text(
        'Votre session de travail a pris fin (expirée ou fermée). Reconnectez-vous.')
    expect(page.locator('#topbar')).to_be_hidden()


def test_csv_cells_never_start_a_formula(page, live):
    """A name typed as a formula stays text when the export is opened in a spreadsheet."""
    page.goto(live.base_url + '/')
    csv = page.evaluate("""async () => {
        const {toCsv} = await import('/static/app/csv.js');
        return toCsv(['Nom'], [['=1+2'], ['+33 6 12'], ['-2'], ['@SUM(A1)'], ['\\tsuite'], ['\\rfin'],
                               ['Martin'], ['=A1;B1'], [null]]);
    }""")
    lines = csv.lstrip('\ufeff').split('\r\n')
    assert lines[1:10] == ["'=1+2", "'+33 6 12", "'-2", "'@SUM(A1)", "'\tsuite", '"\'\rfin"', 'Martin',
                           '"\'=A1;B1"', '']
    # And in the audit log's export: a visitor registered as "@SUM(1+1)" "=HYPERLINK(...)".
    live.api('POST', '/api/utilisateurs/', {'nom': '=HYPERLINK("http://x")', 'prenom': '@SUM(1+1)',
                                             'telephone': '0600000000', 'consentement_rgpd': True}, expect=201)
    add_account(live, 'agent')
    log_in(page, live, 'agent')
    page.click('nav a[href="#/journal"]')
    page.select_option('select[name=action]', 'creation_utilisateur')
    page.click('text=Filtrer')
    expect(page.locator('table.log tbody tr')).to_have_count(1)
    with page.expect_download() as download:
        page.click('text=Exporter en CSV')
    with open(download.value.path(), encoding='utf-8-sig') as f:
        rows = f.read().split('\n')[1:-1]
    cells = rows[0].split(';')
    assert cells[3] in ("'@SUM(1+1) =HYPERLINK(\"\"http://x\"\")", "\"'@SUM(1+1) =HYPERLINK(\"\"http://x\"\")\"")
    assert not any(cell.lstrip('"').startswith(('=', '+', '-', '@')) for row in rows for cell in row.split(';'))
