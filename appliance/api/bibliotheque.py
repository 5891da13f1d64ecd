"""The library's settings (docs/api.md): its name and the kiosks' home page, sent to every kiosk."""
import re

from appliance.api.declared import ADMIN, STAFF
from appliance.api.http import client_ip
from appliance.api.validation import Problem, Text


class HomePage(Text):
    """An http(s) address, or '' for none. The host is written in ASCII (a name with accents in
    its punycode form, as the browser's address bar shows it once copied)."""
    ADDRESS = r'https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?'

    def __init__(self, **kw):
        super().__init__(500, **kw)

    def clean(self, value):
        value = super().clean(value)
        if value and not re.fullmatch(self.ADDRESS, value):
            raise Problem('Saisissez une adresse complète, par exemple https://catalogue.exemple.fr/ (ou rien).')
        return value

    def openapi(self):
        return {**super().openapi(), 'pattern': f'^({self.ADDRESS})?$'}


SCHEMA = {
    'nom': Text(100, blank=False, description='Le nom affiché par les kiosques.'),
    'page_accueil': HomePage(description='La page ouverte sur les postes pendant une session (vide : aucune).'),
}


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/bibliotheque/', auth=STAFF, summary='Nom de la bibliothèque et page d’accueil des kiosques')
    def show_library():
        return desk.library()

    @app.put('/api/bibliotheque/', auth=ADMIN, body=SCHEMA, partial=True,
             summary='Changer le nom ou la page d’accueil (envoyés à tous les kiosques)')
    @app.patch('/api/bibliotheque/', auth=ADMIN, body=SCHEMA,
               summary='Changer le nom ou la page d’accueil (partiel)')
    def set_library(compte, data):
        return desk.set_library(data, operateur=compte, ip=client_ip())
