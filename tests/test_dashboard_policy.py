"""The dashboard's policy pages in headless Chromium against a real server: the hours (weekly grid,
a closed day chosen on the calendar), the categories, the quota shown when a session is made (and
forcing it), and the guest codes with their sheet of tickets. Screenshots at 1366×768 and 800×1280
are written for a person to look at (POLICY_SCREENSHOTS=folder)."""
import os
import re
from datetime import date

import pytest

from tests.browser import expect

PASSWORD = 'Accueil-Mediatheque-2026'


@pytest.fixture
def page(browser):
    context = browser.new_context(locale='fr-FR', viewport={'width': 1366, 'height': 768})
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda error: errors.append(error))
    yield page
    context.close()
    assert errors == [], errors


def log_in(page, live, username):
    live.api('POST', '/api/comptes/', {'username': username, 'password': PASSWORD,
                                       'role': 'admin' if username.startswith('admin') else 'staff'}, expect=201)
    page.goto(live.base_url + '/')
    page.fill('input[name=username]', username)
    page.fill('input[name=password]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#topbar')).to_be_visible()


def snap(page, name):
    folder = os.environ.get('POLICY_SCREENSHOTS')
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for width, height in ((1366, 768), (800, 1280)):
        page.set_viewport_size({'width': width, 'height': height})
        page.screenshot(path=os.path.join(folder, f'{name}-{width}.png'), full_page=True)
    page.set_viewport_size({'width': 1366, 'height': 768})


def test_hours_page_week_and_calendar(page, live):
    log_in(page, live, 'admin2')
    page.click('nav a[href="#/horaires"]')
    expect(page.locator('#hours-state')).to_have_text('Ouvert en permanence (aucun horaire défini)')
    for day in ('lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi'):
        page.fill(f'input[name={day}]', '9h-12h30, 14:00-18:00')
    page.fill('input[name=samedi]', 'n’importe quoi')
    page.click('text=Enregistrer les horaires')
    expect(page.locator('.field-error[data-error-for=semaine]')).to_contain_text('Samedi')
    page.fill('input[name=samedi]', '10:00-17:00')
    page.fill('#h-notice', '10')
    page.click('text=Enregistrer les horaires')
    expect(page.locator('#toast')).to_contain_text('Horaires enregistrés')
    hours = live.api('GET', '/api/horaires/')
    assert hours['semaine']['lundi'] == [['09:00', '12:30'], ['14:00', '18:00']]
    assert hours['semaine']['dimanche'] == [] and hours['avertissement_fermeture'] == 600
    expect(page.locator('#hours-state')).to_have_text(re.compile(r'^(Ouvert — ferme à|Fermé — rouvre le) '))
    # A closure chosen on the calendar.
    today = date.today()
    page.click(f'.cal-day[data-day="{today.isoformat()}"]')
    page.fill('#exc-motif', 'Inventaire')
    page.click('text=Enregistrer ce jour')
    expect(page.locator(f'.exceptions li[data-date="{today.isoformat()}"]')).to_contain_text('fermé (Inventaire)')
    expect(page.locator(f'.cal-day[data-day="{today.isoformat()}"]')).to_have_class('cal-day closed')
    assert live.api('GET', '/api/horaires/')['exceptions'] == [
        {'date': today.isoformat(), 'plages': [], 'motif': 'Inventaire'}]
    expect(page.locator('#hours-state')).to_have_text(re.compile(r'^Fermé — rouvre le '))
    snap(page, 'horaires')


def test_categories_quota_at_session_creation_and_guest_tickets(page, live):
    log_in(page, live, 'admin3')
    page.click('nav a[href="#/categories"]')
    expect(page.locator('tbody tr')).to_have_count(1)
    expect(page.locator('tbody tr th')).to_have_text('Tous publics par défaut')
    page.click('text=Nouvelle catégorie')
    page.fill('input[name=nom]', 'Adultes')
    page.fill('input[name=quota_jour]', '40')
    page.fill('input[name=quota_semaine]', '300')
    page.fill('input[name=age_min]', '18')
    page.click('text=Créer la catégorie')
    expect(page.locator('tbody tr')).to_have_count(2)
    row = page.locator('tbody tr', has_text='Adultes')
    expect(row).to_contain_text('40 min')
    expect(row).to_contain_text('5 h')
    expect(row).to_contain_text('à partir de 18 ans')
    snap(page, 'categories')
    categorie = next(c for c in live.api('GET', '/api/categories/')['results'] if c['nom'] == 'Adultes')

    # The quota shows when the visitor is chosen; over it, the desk may force.
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Quota', 'prenom': 'Léa', 'telephone': '0600000001',
                                                      'consentement_rgpd': True, 'categorie': categorie['id']},
                       expect=201)
    page.goto(f'{live.base_url}/#/nouvelle-session?visiteur={visitor["id"]}')
    expect(page.locator('#ns-quota')).to_have_text(
        'Il reste 40 min aujourd’hui et 5 h cette semaine (catégorie Adultes).')
    page.click('label.choice:has-text("1 h")')
    page.click('text=Générer le code')
    expect(page.locator('.form-error')).to_contain_text('Quota dépassé : il reste 40 min aujourd’hui')
    expect(page.locator('.force-box')).to_be_visible()
    snap(page, 'quota')
    page.check('#ns-force')
    page.click('text=Générer le code')
    expect(page.locator('#code-acces')).to_have_text(re.compile(r'^[A-HJ-NP-Z2-9]{6}$'))
    entry = live.api('GET', '/api/logs/?action=depassement_quota')['results'][0]
    assert entry['operateur'] == 'admin3' and entry['metadata']['depassement'] == 1200

    # Guest codes, and their sheet of tickets (printing is caught: the page fills the print area).
    page.click('nav a[href="#/codes-invites"]')
    page.fill('input[name=nombre]', '4')
    page.fill('input[name=minutes]', '45')
    page.click('text=Générer les codes')
    expect(page.locator('.guest-codes li')).to_have_count(4)
    page.evaluate('window.print = () => { window.printed = document.querySelectorAll("#ticket .guest-ticket").length; }')
    page.select_option('#g-format', 'a4')
    page.click('#g-print')
    assert page.evaluate('window.printed') == 4
    assert page.evaluate('document.documentElement.dataset.ticket') == 'a4'
    codes = page.locator('.guest-code').all_inner_texts()
    assert page.locator('#ticket .t-code').all_inner_texts() == codes
    guests = [s for s in live.api('GET', '/api/sessions/?page_size=50')['results'] if s['invite']]
    assert sorted(s['code_acces'] for s in guests) == sorted(codes)
    assert {s['duree_initiale'] for s in guests} == {2700}
    snap(page, 'codes-invites')
    page.emulate_media(media='print')
    snap(page, 'planche-a4')


def test_statistics_show_use_per_category(page, live):
    log_in(page, live, 'agent4')
    live.api('POST', '/api/categories/', {'nom': 'Jeunes'}, expect=201)
    page.click('nav a[href="#/statistiques"]')
    section = page.locator('#stats-categories')
    expect(section).to_contain_text('Utilisation par catégorie de visiteurs')
    expect(section).to_contain_text('Jeunes')
    expect(section).to_contain_text('Tous publics')
    snap(page, 'statistiques-categories')


def test_adding_time_over_the_quota_in_the_room_asks_then_forces(page, live):
    log_in(page, live, 'agent5')
    categorie = live.api('POST', '/api/categories/', {'nom': 'Courte', 'quota_jour': 1800}, expect=201)
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Salle', 'prenom': 'Zoé', 'telephone': '0600000005',
                                                      'consentement_rgpd': True, 'categorie': categorie['id']},
                       expect=201)
    poste = live.make_poste('Poste Q', '10.0.0.81')
    session = live.api('POST', '/api/sessions/', {'utilisateur': visitor['id'], 'poste': poste['id'],
                                                  'duree_initiale': 1200}, expect=201)
    live.start_session(session, poste)
    tile = page.locator(f'.tile[data-poste="{poste["id"]}"]')
    expect(tile).to_have_attribute('data-statut', 'occupe')
    expect(tile.locator('.visitor')).to_have_text('Zoé Salle')
    tile.locator('[data-action=add-15]').click()
    expect(page.locator('dialog')).to_contain_text('Quota dépassé : il reste 10 min aujourd’hui')
    page.click('dialog [data-confirm=yes]')
    expect(page.locator('#toast')).to_contain_text('15 min ajoutées sur Poste Q')
    shown = live.api('GET', f'/api/sessions/{session["id"]}/')
    assert shown['temps_ajoute'] == 900
    entry = live.api('GET', '/api/logs/?action=depassement_quota')['results'][0]
    assert entry['operateur'] == 'agent5' and entry['metadata']['depassement'] == 300
