"""Visitor categories and their quotas (docs/horaires.md), and a visitor's quota."""
from appliance.api.declared import ADMIN, STAFF, Row
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate_list
from appliance.api.validation import Boolean, Integer, Problem, Text
from appliance.desk.policy import categorie_json
from appliance.models import Categorie, Utilisateur

DAY, WEEK = 86400, 7 * 86400

SCHEMA = {
    'nom': Text(100, blank=False, required=True),
    'quota_jour': Integer(0, DAY, null=True, description='Secondes de temps actif par jour (null : illimité).'),
    'quota_semaine': Integer(0, WEEK, null=True, description='Secondes par semaine, du lundi (null : illimité).'),
    'duree_max_session': Integer(60, DAY, null=True, description='Secondes (null : pas de limite).'),
    'age_min': Integer(0, 150, null=True, description='Années (null : pas de minimum).'),
    'age_max': Integer(0, 150, null=True, description='Années (null : pas de maximum).'),
    'par_defaut': Boolean(description='Vrai : la catégorie des visiteurs qui n’en ont pas (une seule).'),
}
CATEGORIE = Row(Categorie, 'Catégorie introuvable.')
UTILISATEUR = Row(Utilisateur, 'Visiteur introuvable.')


class CategorieRef(Integer):
    """A category's id (the visitor's field): kept as a plain id, null for the default one."""

    def __init__(self, **kw):
        super().__init__(1, 2 ** 62, **kw)

    def clean(self, value):
        number = super().clean(value)
        if not Categorie.select().where(Categorie.id == number).exists():
            raise Problem(f'Catégorie « {value} » introuvable.')
        return number


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/categories/', auth=STAFF, query=PAGINATION, summary='Catégories de visiteurs et leurs quotas')
    def list_categories():
        return paginate_list(desk.categories())

    @app.post('/api/categories/', auth=ADMIN, body=SCHEMA, status=201, summary='Créer une catégorie')
    def create_categorie(compte, data):
        return categorie_json(desk.save_categorie(None, data, operateur=compte, ip=client_ip()))

    @app.get('/api/categories/<cid>/', auth=STAFF, wildcards={'cid': CATEGORIE}, summary='Détail d’une catégorie')
    def show_categorie(categorie):
        return categorie_json(categorie)

    @app.patch('/api/categories/<cid>/', auth=ADMIN, wildcards={'cid': CATEGORIE}, body=SCHEMA,
               summary='Modifier une catégorie (partiel)')
    def update_categorie(categorie, compte, data):
        return categorie_json(desk.save_categorie(categorie, data, operateur=compte, ip=client_ip()))

    @app.delete('/api/categories/<cid>/', auth=ADMIN, wildcards={'cid': CATEGORIE}, status=204,
                summary='Supprimer une catégorie (ses visiteurs passent dans celle par défaut)')
    def delete_categorie(categorie, compte):
        desk.delete_categorie(categorie, operateur=compte, ip=client_ip())

    @app.get('/api/utilisateurs/<uid>/quota/', auth=STAFF, wildcards={'uid': UTILISATEUR},
             summary='Temps utilisé et restant du visiteur aujourd’hui et cette semaine')
    def quota(u):
        return desk.quota_remaining(u)
