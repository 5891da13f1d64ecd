"""Live control of the postes in real headless Chromium against a real server: the web kiosk
(/kiosk/) hears messages, commands, the pause and the answers to its requests, and ends an idle
session; the dashboard sends them. (A module of its own: tests/browser.py skips its importer where
Chromium is missing, and the API tests of tests/test_control.py must run there.)"""
import pytest

from tests.browser import expect
from tests.kiosk_support import wait_until

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


@pytest.fixture
def dashboard(browser, live):
    context = browser.new_context(locale='fr-FR', viewport={'width': 1366, 'height': 768})
    page = context.new_page()
    yield page
    context.close()
