"""Strict input (docs/api.md): unknown JSON fields are refused by name, fields the API itself shows
are accepted back and ignored, and the seed's own spellings of two routes are served."""
from tests.support import log_actions


def test_an_unknown_field_is_refused_by_name_and_nothing_is_written(client, staff_token):
    response = client.post('/api/utilisateurs/', {
        'nom': 'Martin', 'prenom': 'Alice', 'telephone': '0102030405', 'consentement_rgpd': True,
        'telephon': '0607080910', 'role': 'admin'}, token=staff_token)
    assert response.status == 400
    assert set(response.json['errors']) == {'telephon', 'role'}
    assert response.json['errors']['telephon'] == ['Champ inconnu : il n’est pas accepté ici.']
    assert client.get('/api/utilisateurs/', token=staff_token).json['count'] == 0


def test_a_patch_with_a_misspelt_field_changes_nothing(client, admin_token):
    poste = client.make_poste(admin_token)
    response = client.patch(f'/api/postes/{poste["id"]}/', {'nom': 'Poste 2', 'emplacment': 'Salle B'},
                            token=admin_token)
    assert response.status == 400 and list(response.json['errors']) == ['emplacment']
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json['nom'] == 'Poste 1'


def test_what_a_get_returned_can_be_put_back(client, admin_token):
    """A client that edits the object it read and sends it whole is not refused for the fields the
    API computes; those are ignored."""
    poste = client.make_poste(admin_token)
    shown = client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json
    shown.update(nom='Poste renommé', id=999, en_ligne=True, created_at='2000-01-01T00:00:00+00:00')
    response = client.put(f'/api/postes/{poste["id"]}/', shown, token=admin_token)
    assert response.status == 200, response
    assert response.json['id'] == poste['id'] and response.json['nom'] == 'Poste renommé'
    assert response.json['created_at'] == poste['created_at'] and response.json['en_ligne'] is False


def test_an_unknown_field_on_an_action_is_refused(client, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    response = client.post(f'/api/sessions/{session["id"]}/add-time/', {'secondes': 600}, token=admin_token)
    assert response.status == 400 and 'secondes' in response.json['errors']
    assert client.get(f'/api/sessions/{session["id"]}/', token=admin_token).json['temps_ajoute'] == 0


def test_the_seed_spellings_of_validate_code_and_add_time_are_served(client, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=1800)
    started = client.post('/api/sessions/validate_code/', {'code': session['code_acces'], 'poste': poste['id']},
                          token=admin_token)
    assert started.status == 200 and started.json['valid'] is True
    assert started.json['session']['statut'] == 'active'
    added = client.post(f'/api/sessions/{session["id"]}/add_time/', {'minutes': 10}, token=admin_token)
    assert added.status == 200 and added.json['temps_ajoute'] == 600
    assert log_actions(action='ajout_temps') == ['ajout_temps']


def test_the_document_says_bodies_take_no_other_field(client):
    document = client.get('/api/openapi.json').json
    body = document['paths']['/api/postes/']['post']['requestBody']['content']['application/json']['schema']
    assert body['additionalProperties'] is False
    assert body['properties']['id']['readOnly'] is True
    assert '/api/sessions/validate_code/' in document['paths']
    assert '/api/sessions/{id}/add_time/' in document['paths']


def test_get_on_a_post_only_route_is_a_405_not_a_missing_session(client, admin_token):
    response = client.get('/api/sessions/validate-code/', token=admin_token)
    assert response.status == 405 and 'POST' in response.headers.get('Allow', '')


def test_a_path_id_that_is_not_a_number_is_a_json_404(client, admin_token):
    response = client.get('/api/postes/abc/', token=admin_token)
    assert response.status == 404 and response.json['detail']
    assert client.put('/api/postes/message/', {}, token=admin_token).status == 405
