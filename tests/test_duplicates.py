"""Visitors registered twice (docs/api.md): the API warns before a second record of the same person
(409 with the look-alikes unless "doublon_confirme": true), and an admin merges two records."""
import pytest

from appliance.desk.duplicates import fold, phone_digits
from appliance.models import Log, Session


def register(client, token, **fields):
    data = {'nom': 'Lambert', 'prenom': 'Élise', 'consentement_rgpd': True, **fields}
    return client.post('/api/utilisateurs/', data, token=token)


def test_folding_ignores_accents_case_and_spacing():
    assert fold('  Élise-Anne ') == fold('ELISE anne') == 'elise anne'
    assert phone_digits('+33 6 12 34 56 78') == phone_digits('06.12.34.56.78') == '0612345678'


@pytest.mark.parametrize('first, second', [
    ({'date_naissance': '1990-03-04', 'telephone': '0611111111'},
     {'date_naissance': '1990-03-04', 'telephone': '0622222222', 'nom': 'LAMBERT', 'prenom': 'elise'}),
    ({'email': 'elise@exemple.fr'}, {'email': 'Elise@Exemple.fr', 'nom': 'lambert '}),
    ({'telephone': '06 12 34 56 78'}, {'telephone': '+33612345678', 'nom': 'Élise', 'prenom': 'Lambert'}),
])
def test_a_second_record_of_the_same_person_is_answered_409_with_the_first(client, staff_token, first, second):
    existing = register(client, staff_token, **first)
    assert existing.status == 201, existing
    again = register(client, staff_token, **second)
    assert again.status == 409, again
    assert [v['id'] for v in again.json['doublons']] == [existing.json['id']]
    assert again.json['doublons'][0]['nom'] == 'Lambert'
    assert 'fiche existante' in again.json['detail'] and 'doublon_confirme' in again.json['detail']
    confirmed = register(client, staff_token, doublon_confirme=True, **second)
    assert confirmed.status == 201, confirmed
    assert 'doublon_confirme' not in confirmed.json


def test_namesakes_and_families_are_not_duplicates(client, staff_token):
    assert register(client, staff_token, telephone='0611111111', date_naissance='1990-03-04').status == 201
    # Same name, nothing else in common: a namesake.
    assert register(client, staff_token, telephone='0622222222', date_naissance='1985-01-01').status == 201
    # Same phone and birth date, another name: a twin sharing the family's phone.
    assert register(client, staff_token, prenom='Léa', telephone='0611111111',
                    date_naissance='1990-03-04').status == 201


def test_editing_a_record_never_asks(client, staff_token):
    first = register(client, staff_token, telephone='0611111111').json
    second = register(client, staff_token, telephone='0622222222').json
    answer = client.patch(f'/api/utilisateurs/{second["id"]}/', {'telephone': '0611111111'}, token=staff_token)
    assert answer.status == 200 and first['id'] != second['id']


def test_an_admin_merges_two_records_sessions_and_all(client, admin_token, staff_token):
    kept = register(client, staff_token, telephone='0611111111').json
    merged = register(client, staff_token, telephone='0622222222', email='elise@exemple.fr',
                      date_naissance='1990-03-04', doublon_confirme=True).json
    for visitor in (kept, merged):
        session = client.make_session(staff_token, visitor['id'])
        client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=staff_token)
    waiting = client.make_session(staff_token, merged['id'])

    refused = client.post(f'/api/utilisateurs/{kept["id"]}/fusionner/', {'doublon': merged['id']}, token=staff_token)
    assert refused.status == 403
    answer = client.post(f'/api/utilisateurs/{kept["id"]}/fusionner/', {'doublon': merged['id']}, token=admin_token)
    assert answer.status == 200, answer
    result = answer.json
    assert result['id'] == kept['id'] and result['telephone'] == '0611111111'      # its own kept
    assert result['email'] == 'elise@exemple.fr' and result['date_naissance'] == '1990-03-04'   # gaps filled
    assert client.get(f'/api/utilisateurs/{merged["id"]}/', token=admin_token).status == 404
    sessions = client.get(f'/api/sessions/?utilisateur={kept["id"]}', token=admin_token).json
    assert sessions['count'] == 3
    assert Session.get_by_id(waiting['id']).utilisateur_id == kept['id']
    entry = Log.select().where(Log.action == 'fusion_utilisateurs').get()
    assert entry.utilisateur == kept['id'] and entry.operateur == 'admin'
    assert entry.metadata_dict['fiche_fusionnee'] == merged['id'] and entry.metadata_dict['sessions'] == 2


def test_merge_errors(client, admin_token, staff_token):
    one = register(client, staff_token, telephone='0611111111').json
    two = register(client, staff_token, telephone='0622222222').json
    url = f'/api/utilisateurs/{one["id"]}/fusionner/'
    assert client.post(url, {'doublon': one['id']}, token=admin_token).status == 409
    missing = client.post(url, {'doublon': 999999}, token=admin_token)
    assert missing.status == 400 and set(missing.json['errors']) == {'doublon'}
    assert client.post(url, {}, token=admin_token).status == 400
    client.make_session(staff_token, one['id'])
    client.make_session(staff_token, two['id'])
    both_open = client.post(url, {'doublon': two['id']}, token=admin_token)
    assert both_open.status == 409 and 'session' in both_open.json['detail']
    assert client.get(f'/api/utilisateurs/{two["id"]}/', token=admin_token).status == 200
