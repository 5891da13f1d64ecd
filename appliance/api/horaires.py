"""Opening hours (docs/horaires.md): the week, dated exceptions, the closing notice, the state now."""
from appliance import hours
from appliance.api.declared import ADMIN, STAFF
from appliance.api.http import client_ip
from appliance.api.validation import Field, Integer, Problem


def _messages(bad):
    return ' '.join(f'{field} : {" ".join(messages)}' for field, messages in bad.errors.items())


class Week(Field):
    type_name = 'object'

    def clean(self, value):
        try:
            hours.clean_schedule({'semaine': value})
        except hours.BadHours as bad:
            raise Problem(_messages(bad)) from None
        return value

    def openapi(self):
        ranges = {'type': 'array', 'items': {'type': 'array', 'items': {'type': 'string', 'example': '09:00'},
                                             'minItems': 2, 'maxItems': 2}}
        return {**super().openapi(), 'properties': {day: ranges for day in hours.DAYS}}


class Exceptions(Field):
    type_name = 'array'

    def clean(self, value):
        try:
            hours.clean_schedule({'exceptions': value})
        except hours.BadHours as bad:
            raise Problem(_messages(bad)) from None
        return value

    def openapi(self):
        return {**super().openapi(), 'items': {'type': 'object', 'properties': {
            'date': {'type': 'string', 'format': 'date'}, 'motif': {'type': 'string'},
            'plages': {'type': 'array', 'items': {'type': 'array', 'items': {'type': 'string'}}}}}}


SCHEMA = {
    'semaine': Week(description='Plages de chaque jour, lundi…dimanche, en heure locale (HH:MM ou HH:MM:SS). '
                                'Aucune plage de toute la semaine : ouvert en permanence.'),
    'exceptions': Exceptions(description='Jours particuliers (fermetures, journées courtes) : date, plages, motif.'),
    'avertissement_fermeture': Integer(0, 7200, description='Secondes avant la fermeture où les postes sont prévenus.'),
}


def routes(app, ctx):
    desk = ctx.desk

    @app.get('/api/horaires/', auth=STAFF, summary='Horaires d’ouverture')
    def show_hours():
        return desk.horaires()

    @app.put('/api/horaires/', auth=ADMIN, body=SCHEMA, partial=True,
             summary='Changer les horaires d’ouverture (les sessions en cours sont limitées à la fermeture)')
    def set_hours(compte, data):
        return desk.set_horaires(data, operateur=compte, ip=client_ip())

    @app.get('/api/horaires/etat/', auth=STAFF, summary='Ouvert ou fermé maintenant, prochaine fermeture et ouverture')
    def hours_state():
        return desk.horaires_etat()
