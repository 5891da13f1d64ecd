"""The dashboard's privacy pages in real headless Chromium against a real server: Réquisition
(the file and its SHA-256), Vie privée (retention, the audit log's verification, the charter), and
a visitor's export and erasure. Screenshots at 1366x768 and 800x1280 are kept in the test's folder."""
import hashlib
import json
import subprocess
import sys

import pytest

from tests.browser import expect

PASSWORD = 'Accueil-Mediatheque-2026'
SIZES = {'large': (1366, 768), 'tall': (800, 1280)}


@pytest.fixture(params=list(SIZES))
def page(request, browser):
    width, height = SIZES[request.param]
    context = browser.new_context(locale='fr-FR', viewport={'width': width, 'height': height}, accept_downloads=True)
    page = context.new_page()
    page.size_name = request.param
    errors = []
    page.on('pageerror', lambda error: errors.append(error))
    yield page
    context.close()
    assert errors == [], errors


def log_in_admin(page, live):
    live.api('POST', '/api/comptes/', {'username': 'dpo', 'password': PASSWORD, 'role': 'admin'}, expect=201)
    page.goto(live.base_url + '/')
    page.fill('input[name=username]', 'dpo')
    page.fill('input[name=password]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#topbar')).to_be_visible()


def test_requisition_page_downloads_the_file_and_shows_its_hash(page, live, tmp_path):
    poste = live.make_poste('Poste Réquisition', '10.0.0.61')
    session = live.make_session(poste['id'])
    live.start_session(session, poste)
    log_in_admin(page, live)
    page.click('#nav a[href="#/requisition"]')
    expect(page.locator('.page-title')).to_have_text('Réquisition')
    page.fill('input[name=motif]', 'PV 2026/0042')
    page.select_option('select[name=poste]', str(poste['id']))
    with page.expect_download() as download:
        page.click('button:has-text("Extraire les sessions")')
    path = tmp_path / 'requisition.csv'
    download.value.save_as(path)
    data = path.read_bytes()
    expect(page.locator('[data-hash]')).to_have_text(hashlib.sha256(data).hexdigest())
    expect(page.locator('[data-count]')).to_have_text('1')
    assert data.startswith(b'\xef\xbb\xbf') and 'Poste Réquisition'.encode() in data
    page.screenshot(path=str(tmp_path / f'requisition-{page.size_name}.png'), full_page=True)
    entry = live.api('GET', '/api/logs/?action=requisition')['results'][0]
    assert entry['metadata']['motif'] == 'PV 2026/0042' and entry['metadata']['poste'] == poste['id']
    # Without a reference the form says so and nothing is asked of the box.
    page.fill('input[name=motif]', '')
    page.click('button:has-text("Extraire les sessions")')
    expect(page.locator('.form-error')).to_be_visible()
    assert live.api('GET', '/api/logs/?action=requisition')['count'] == 1


def test_privacy_page_verification_charter_and_retention(page, live, tmp_path):
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Martin', 'prenom': 'Alice', 'telephone': '0600000000',
                                                       'consentement_rgpd': True}, expect=201)
    purge = subprocess.run([sys.executable, '-m', 'appliance', 'purge'], env=live.environment(), cwd=live.data_dir,
                           capture_output=True, text=True, timeout=60)
    assert purge.returncode == 0, purge.stderr
    log_in_admin(page, live)
    page.click('#nav a[href="#/vie-privee"]')
    expect(page.locator('.page-title')).to_have_text('Vie privée')
    expect(page.locator('[data-last-purge]')).to_contain_text('0 session(s) supprimée(s), 0 visiteur(s) anonymisé(s)')
    page.click('button:has-text("Vérifier maintenant")')
    expect(page.locator('[data-verdict=ok]')).to_contain_text('Journal intact')
    # The charter: a first version.
    page.fill('textarea[name=texte]', 'Article 1 : je respecte le matériel.\nArticle 2 : je respecte les autres.')
    page.click('button:has-text("Enregistrer une nouvelle version")')
    expect(page.locator('[data-charter-version="1"]')).to_contain_text('Version 1')
    assert live.api('GET', '/api/charte/')['texte'].startswith('Article 1')
    page.screenshot(path=str(tmp_path / f'vie-privee-{page.size_name}.png'), full_page=True)
    # An edited audit row is found.
    entry = live.api('GET', f'/api/logs/?action=creation_utilisateur&utilisateur={visitor["id"]}')['results'][0]
    live.execute_sql("UPDATE log SET details = 'Autre chose.' WHERE id = ?", (entry['id'],))
    page.click('button:has-text("Vérifier maintenant")')
    expect(page.locator('[data-verdict=altere]')).to_contain_text(f'L’entrée n° {entry["id"]}')
    page.screenshot(path=str(tmp_path / f'vie-privee-altere-{page.size_name}.png'), full_page=True)


def test_a_visitor_is_exported_then_anonymised_from_their_page(page, live, tmp_path):
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Martin', 'prenom': 'Alice', 'telephone': '0600000000',
                                                       'date_naissance': '1990-05-04', 'consentement_rgpd': True},
                       expect=201)
    log_in_admin(page, live)
    page.goto(f'{live.base_url}/#/visiteurs/{visitor["id"]}')
    expect(page.locator('.detail-head h2')).to_have_text('Alice Martin')
    with page.expect_download() as download:
        page.click('button:has-text("Exporter ses données")')
    path = tmp_path / 'export.json'
    download.value.save_as(path)
    export = json.loads(path.read_text(encoding='utf-8'))
    assert export['utilisateur']['id'] == visitor['id'] and export['utilisateur']['date_naissance'] == '1990-05-04'
    page.click('button:has-text("Anonymiser…")')
    page.click('dialog button[data-confirm=yes]')
    expect(page.locator('.detail-head h2')).to_have_text('Anonyme')
    page.screenshot(path=str(tmp_path / f'visiteur-anonymise-{page.size_name}.png'), full_page=True)
    assert live.api('GET', f'/api/utilisateurs/{visitor["id"]}/')['nom'] == 'Anonyme'
