"""The dashboard on a network of sites, in real headless Chromium against a real server: a
librarian sees their site's name and postes only; an administrator switches between sites and
manages them on the Sites page."""
import os

import pytest

from tests.browser import expect

PASSWORD = 'Accueil-Mediatheque-2026'
SHOTS = os.environ.get('SITES_SCREENSHOTS')   # a folder: screenshots to look at, not asserted


@pytest.fixture
def network(live):
    nord = live.api('POST', '/api/sites/', {'nom': 'Médiathèque Nord', 'adresse': '1 rue du Nord'}, expect=201)
    centre = live.make_poste('Centre 1', '10.1.0.1')
    poste_nord = live.api('POST', '/api/postes/', {'nom': 'Nord 1', 'ip_address': '10.2.0.1', 'site': nord['id']},
                          expect=201)
    for username, role, site in (('chef', 'admin', None), ('nord', 'staff', nord['id'])):
        body = {'username': username, 'password': PASSWORD, 'role': role}
        if site:
            body['site'] = site
        live.api('POST', '/api/comptes/', body, expect=201)
    return {'nord': nord, 'centre': centre, 'poste_nord': poste_nord}


def open_page(browser, live, username, width=1366, height=768):
    context = browser.new_context(locale='fr-FR', viewport={'width': width, 'height': height})
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda error: errors.append(error))
    page.goto(live.base_url + '/')
    page.fill('input[name=username]', username)
    page.fill('input[name=password]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#topbar')).to_be_visible()
    return context, page, errors


def tile(page, poste):
    return page.locator(f'.tile[data-poste="{poste["id"]}"]')


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_a_librarian_sees_their_site_only(browser, live, network):
    context, page, errors = open_page(browser, live, 'nord', 800, 1280)
    expect(page.locator('#site-box')).to_have_text('Médiathèque Nord')
    expect(tile(page, network['poste_nord'])).to_be_visible()
    expect(page.locator('.tile')).to_have_count(1)
    expect(page.locator('#site-switch')).to_have_count(0)
    expect(page.locator('#nav li[data-route="sites"]')).to_have_count(0)
    shoot(page, 'sites-bibliothecaire-800.png')
    context.close()
    assert errors == []


def test_an_administrator_switches_sites_and_manages_them(browser, live, network):
    context, page, errors = open_page(browser, live, 'chef')
    switch = page.locator('#site-switch')
    expect(switch.locator('option')).to_have_text(['Tous les sites', 'Médiathèque Nord', 'Site principal'])
    expect(page.locator('.tile')).to_have_count(2)
    expect(tile(page, network['poste_nord']).locator('.where')).to_have_text('Médiathèque Nord')
    shoot(page, 'sites-salle-1366.png')
    switch.select_option(label='Médiathèque Nord')
    expect(page.locator('.tile')).to_have_count(1)
    expect(tile(page, network['poste_nord'])).to_be_visible()
    # The journal follows the chosen site: the centre's poste is not among its filters.
    page.click('#nav a[href="#/journal"]')
    expect(page.locator('select[name=poste] option')).to_have_text(['Tous les postes', 'Nord 1'])
    # The Sites page: a new site, then it is offered by the switcher.
    page.click('#nav a[href="#/sites"]')
    expect(page.locator('tr[data-site]')).to_have_count(2)
    page.click('text=Nouveau site')
    page.fill('input[name=nom]', 'Annexe Sud')
    page.fill('textarea[name=adresse]', '3 place du Marché')
    page.click('form button[type=submit]')
    expect(page.locator('#toast')).to_contain_text('Site Annexe Sud créé.')
    expect(page.locator('tr[data-site]')).to_have_count(3)
    expect(switch.locator('option')).to_have_count(4)
    shoot(page, 'sites-page-1366.png')
    page.set_viewport_size({'width': 800, 'height': 1280})
    shoot(page, 'sites-page-800.png')
    page.set_viewport_size({'width': 1366, 'height': 768})
    # The postes and the accounts say their site; their forms choose it.
    page.click('#nav a[href="#/postes"]')
    expect(page.locator(f'tr[data-poste="{network["poste_nord"]["id"]}"] .site-tag')).to_have_text('Médiathèque Nord')
    page.click('#nav a[href="#/comptes"]')
    page.click('text=Nouveau compte')
    expect(page.locator('select[name=site]')).to_have_value(str(network['nord']['id']))   # the chosen site
    shoot(page, 'sites-comptes-1366.png')
    # Back to every site: both postes again; the choice survives a reload.
    switch.select_option(label='Tous les sites')
    page.click('#nav a[href="#/salle"]')
    expect(page.locator('.tile')).to_have_count(2)
    switch.select_option(label='Site principal')
    page.reload()
    page.fill('input[name=username]', 'chef')
    page.fill('input[name=password]', PASSWORD)
    page.click('form button[type=submit]')
    expect(page.locator('#site-switch')).to_have_value(str(network['centre']['site']))
    expect(page.locator('.tile')).to_have_count(1)
    expect(tile(page, network['centre'])).to_be_visible()
    context.close()
    assert errors == []
