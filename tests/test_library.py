"""The library's settings (name, kiosks' home page), sent to every kiosk; and the address each
kiosk really connects from, next to the poste's stored one (docs/api.md, docs/kiosk.md)."""
import json

from tests.live import kiosk, recv_action
from appliance.models import Log


def test_an_admin_sets_the_name_once_and_staff_read_it(client, admin_token, staff_token):
    assert client.get('/api/bibliotheque/', token=staff_token).json == {'nom': '', 'page_accueil': ''}
    answer = client.put('/api/bibliotheque/', {'nom': '  Médiathèque Jules Verne ',
                                               'page_accueil': 'https://catalogue.exemple.fr/'},
                        token=admin_token)
    assert answer.status == 200, answer
    assert answer.json == {'nom': 'Médiathèque Jules Verne', 'page_accueil': 'https://catalogue.exemple.fr/'}
    assert client.patch('/api/bibliotheque/', {'page_accueil': ''}, token=admin_token).json == {
        'nom': 'Médiathèque Jules Verne', 'page_accueil': ''}
    assert client.get('/api/bibliotheque/', token=staff_token).json['nom'] == 'Médiathèque Jules Verne'
    entries = Log.select().where(Log.action == 'modification_bibliotheque').order_by(Log.id)
    assert [e.metadata_dict['champs'] for e in entries] == [['nom', 'page_accueil'], ['page_accueil']]


def test_only_admins_change_it_and_bad_values_are_refused(client, admin_token, staff_token):
    assert client.put('/api/bibliotheque/', {'nom': 'X'}, token=staff_token).status == 403
    assert client.get('/api/bibliotheque/').status == 401
    for body, field in [({'nom': ''}, 'nom'), ({'nom': 'x' * 101}, 'nom'),
                        ({'page_accueil': 'javascript:alert(1)'}, 'page_accueil'),
                        ({'page_accueil': 'catalogue.exemple.fr'}, 'page_accueil'),
                        ({'page_accueil': 'https://a b.fr/'}, 'page_accueil')]:
        answer = client.put('/api/bibliotheque/', body, token=admin_token)
        assert answer.status == 400 and set(answer.json['errors']) == {field}, (body, answer)
    assert client.get('/api/bibliotheque/', token=admin_token).json == {'nom': '', 'page_accueil': ''}


def test_kiosks_hear_the_name_on_connect_and_when_it_changes(live):
    live.api('PUT', '/api/bibliotheque/', {'nom': 'Médiathèque Jules Verne'}, expect=200)
    poste = live.make_poste('Poste 1', '10.0.0.11')
    ws, first = kiosk(live, poste)
    assert first['bibliotheque'] == 'Médiathèque Jules Verne' and first['page_accueil'] == ''
    live.api('PATCH', '/api/bibliotheque/', {'nom': 'Bibliothèque du Port',
                                             'page_accueil': 'http://catalogue.local/'}, expect=200)
    sync = recv_action(ws, 'sync')
    assert (sync['bibliotheque'], sync['page_accueil']) == ('Bibliothèque du Port', 'http://catalogue.local/')
    assert sync['statut'] == 'disponible' and sync['session'] is None
    ws.close()


def test_a_running_session_goes_on_when_the_name_changes(running):
    running.server.api('PUT', '/api/bibliotheque/', {'nom': 'Médiathèque'}, expect=200)
    sync = recv_action(running.ws, 'sync')
    assert sync['bibliotheque'] == 'Médiathèque'
    assert sync['session']['code_acces'] == running.session['code_acces'] and sync['temps_restant'] > 0


def test_the_poste_shows_the_address_its_kiosk_connects_from(live):
    poste = live.make_poste('Poste 1', '10.0.0.11')
    assert live.api('GET', f'/api/postes/{poste["id"]}/')['adresse_kiosque'] is None
    ws, _ = kiosk(live, poste)
    shown = live.api('GET', f'/api/postes/{poste["id"]}/')
    # The test's kiosk connects from the loopback: not the poste's stored address, and said so.
    assert shown['adresse_kiosque'] == '127.0.0.1' and shown['ip_address'] == '10.0.0.11'
    ws.send(json.dumps({'type': 'heartbeat'}))
    ws.close()
    listed = {p['id']: p for p in live.api('GET', '/api/postes/')['results']}
    assert listed[poste['id']]['adresse_kiosque'] == '127.0.0.1'
