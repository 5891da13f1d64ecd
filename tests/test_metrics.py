"""GET /metrics: Prometheus text for the installer's monitoring, admins or a scrape token only."""
from tests import support


def test_metrics_need_an_admin(client, staff_token):
    assert client.get('/metrics').status == 401
    assert client.get('/metrics', token=staff_token).status == 403


def test_metrics_count_requests_by_route_pattern(client, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token, nom='Secret', prenom='Personne')
    client.get(f'/api/postes/{poste["id"]}/', token=admin_token)
    client.get('/api/postes/99999/', token=admin_token)
    response = client.get('/metrics', token=admin_token)
    assert response.status == 200
    assert response.headers['Content-Type'].startswith('text/plain; version=0.0.4')
    text = response.body.decode()
    assert 'poste_public_http_requests_total{method="GET",route="/api/postes/<poste_id>/",status="200"} 1' in text
    assert 'poste_public_http_requests_total{method="GET",route="/api/postes/<poste_id>/",status="404"} 1' in text
    assert 'poste_public_postes{statut="disponible"} 1' in text
    assert 'poste_public_sessions{statut="active"} 0' in text
    assert 'poste_public_http_request_duration_seconds_bucket{method="POST",route="/api/postes/",le="+Inf"} 1' in text
    assert visitor['nom'] not in text and 'Personne' not in text   # no personal data


def test_metrics_scrape_token(tmp_path, bound_database):
    support.empty_database()
    ctx = support.make_context(tmp_path, METRICS_TOKEN='jeton-de-supervision-assez-long')
    client = support.Client(support.make_app(ctx))
    assert client.get('/metrics', token='jeton-de-supervision-assez-long').status == 200
    assert client.get('/metrics', token='mauvais').status == 401
