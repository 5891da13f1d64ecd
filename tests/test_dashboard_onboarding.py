"""The dashboard for a new library, in real headless Chromium against a real server: a visitor
registered twice, every page at tablet width (800×1280) and desk width (1366×768) with nothing cut
off, dates in French whatever the browser's language, the library's settings on the Postes page."""
import re
import struct

import pytest

from tests.browser import expect
from tests.test_dashboard import add_account, log_in

ROUTES = ['salle', 'nouvelle-session', 'visiteurs', 'visiteurs/nouveau', 'journal', 'statistiques', 'postes',
          'comptes', 'sauvegardes', 'mot-de-passe', 'sites', 'codes-invites', 'horaires', 'categories']
ROUTES += ['requisition', 'vie-privee']
# What sticks out on the right: the page itself, a table's frame, the menu or one of its links.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) out.push('page');
  for (const el of document.querySelectorAll('.table-wrap, #nav, #nav a, .topbar, .panel')) {
    const box = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 || box.right > width + 0.5) out.push(el.id || el.className || el.tagName);
  }
  return out;
}"""


@pytest.fixture
def context(browser):
    """A browser set to American English: the dashboard must still speak French dates."""
    made = []

    def make(width, height):
        context = browser.new_context(locale='en-US', timezone_id='Europe/Paris',
                                      viewport={'width': width, 'height': height}, accept_downloads=True)
        made.append(context)
        page = context.new_page()
        page.errors = []
        page.on('pageerror', lambda error: page.errors.append(error))
        return page
    yield make
    for context in made:
        context.close()


def png_width(data):
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    return struct.unpack('>I', data[16:20])[0]


@pytest.mark.parametrize('width, height', [(800, 1280), (1366, 768)])
def test_every_page_fits_and_the_whole_menu_shows(context, live, width, height):
    add_account(live, 'claire', role='admin')
    live.make_poste('Poste 1', '10.0.0.11')
    live.make_session(None, nom='Lambert', prenom='Élise')
    page = context(width, height)
    log_in(page, live, 'claire')
    expect(page.locator('#topbar')).to_be_visible()
    links = page.locator('#nav a')
    expect(links).to_have_count(14)
    for route in ROUTES:
        page.goto(f'{live.base_url}/#/{route}')
        expect(page.locator('.page-title')).to_be_visible()
        page.wait_for_load_state('networkidle')
        assert page.evaluate(OVERFLOW) == [], route
        # The menu as a person sees it: its picture is no wider than the screen, every entry in it.
        shot = page.locator('#nav').screenshot()
        assert png_width(shot) <= width, route
        for index in range(links.count()):
            box = links.nth(index).bounding_box()
            assert box and box['x'] >= 0 and box['x'] + box['width'] <= width, (route, index)
    assert page.errors == []


def test_dates_are_french_with_an_english_browser(context, live):
    add_account(live, 'claire', role='admin')
    page = context(1366, 768)
    log_in(page, live, 'claire')
    page.click('nav a[href="#/journal"]')
    first_date = page.locator('table.log tbody tr td').first
    expect(first_date).to_have_text(re.compile(r'^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$'))
    expect(page.locator('input[name=date_min]')).to_have_attribute('placeholder', 'JJ/MM/AAAA')

    page.click('nav a[href="#/statistiques"]')
    expect(page.locator('input[name=date_min]')).to_have_value(re.compile(r'^\d{2}/\d{2}/\d{4}$'))

    # A birth date typed the French way is stored as the day it says; an impossible one is refused here.
    page.goto(f'{live.base_url}/#/visiteurs/nouveau')
    page.fill('input[name=nom]', 'Morel')
    page.fill('input[name=prenom]', 'Jules')
    page.fill('input[name=telephone]', '06 98 76 54 32')
    page.check('input[name=consentement_rgpd]')
    page.fill('input[name=date_naissance]', '31/02/2001')
    page.click('.visitor-form button[type=submit]')
    expect(page.locator('.field-error[data-error-for=date_naissance]')).to_contain_text('JJ/MM/AAAA')
    page.fill('input[name=date_naissance]', '04/05/2001')
    page.click('.visitor-form button[type=submit]')
    expect(page.locator('.detail-head h2')).to_have_text('Jules Morel')
    expect(page.locator('.record')).to_contain_text('04/05/2001')
    visitor = live.api('GET', '/api/utilisateurs/?search=Morel')['results'][0]
    assert visitor['date_naissance'] == '2001-05-04'
    assert page.errors == []


def test_a_visitor_registered_twice_is_offered_the_first_record(context, live):
    add_account(live, 'claire')
    first = live.api('POST', '/api/utilisateurs/', {'nom': 'Lambert', 'prenom': 'Élise', 'telephone': '06 12 34 56 78',
                                                    'consentement_rgpd': True}, expect=201)
    page = context(1366, 768)
    log_in(page, live, 'claire')

    def fill_again():
        page.goto(f'{live.base_url}/#/visiteurs/nouveau')
        page.fill('input[name=nom]', 'LAMBERT')
        page.fill('input[name=prenom]', 'elise')
        page.fill('input[name=telephone]', '+33 6 12 34 56 78')
        page.check('input[name=consentement_rgpd]')
        page.click('.visitor-form button[type=submit]')

    fill_again()
    warning = page.locator('.duplicates')
    expect(warning).to_be_visible()
    expect(warning).to_contain_text('peut-être déjà enregistré')
    expect(warning.locator(f'li[data-visitor="{first["id"]}"]')).to_contain_text('Élise Lambert')
    warning.get_by_text('Utiliser cette fiche').click()
    expect(page.locator('.detail-head h2')).to_have_text('Élise Lambert')
    assert page.url.endswith(f'#/visiteurs/{first["id"]}')
    assert live.api('GET', '/api/utilisateurs/')['count'] == 1

    fill_again()
    page.click('.duplicates [data-confirm-new]')
    expect(page.locator('.detail-head h2')).to_have_text('elise LAMBERT')
    assert live.api('GET', '/api/utilisateurs/')['count'] == 2
    assert page.errors == []


def test_the_library_is_named_once_on_the_postes_page(context, live):
    add_account(live, 'claire', role='admin')
    page = context(1366, 768)
    log_in(page, live, 'claire')
    page.click('nav a[href="#/postes"]')
    page.fill('.library-form input[name=page_accueil]', 'catalogue')
    page.fill('.library-form input[name=nom]', 'Médiathèque Jules Verne')
    page.click('.library-form button[type=submit]')
    # The server's refusal, with the field's French label, not its name.
    expect(page.locator('.library-form .field-error[data-error-for=page_accueil]')).to_contain_text('adresse complète')
    expect(page.locator('.library-form .form-error')).to_contain_text('Page d’accueil :')
    page.fill('.library-form input[name=page_accueil]', 'https://catalogue.exemple.fr/')
    page.click('.library-form button[type=submit]')
    expect(page.locator('#toast')).to_contain_text('les kiosques les reçoivent')
    assert live.api('GET', '/api/bibliotheque/') == {'nom': 'Médiathèque Jules Verne',
                                                      'page_accueil': 'https://catalogue.exemple.fr/'}
    assert page.errors == []
