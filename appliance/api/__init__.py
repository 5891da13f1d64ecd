"""The REST API: one module of routes per resource, all registered by register()."""
from appliance.api import (auth, backups, bibliotheque, comptes, logs, postes, sessions, stats, system,
                           utilisateurs, sites)
from appliance.api import controle


from appliance.api import categories, horaires, invites
from appliance.api import privacy


def register(app, ctx):
    for module in (auth, comptes, utilisateurs, postes, sessions, logs, stats, backups, bibliotheque, system, sites,
                   controle):
        module.routes(app, ctx)
    for module in (horaires, categories, invites):   # the library's policy
        module.routes(app, ctx)
    privacy.routes(app, ctx)
