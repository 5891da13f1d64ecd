"""The REST API: one module of routes per resource, all registered by register()."""
from appliance.api import (auth, backups, bibliotheque, comptes, logs, postes, sessions, stats, system,
                           utilisateurs)
from appliance.api import privacy


def register(app, ctx):
    for module in (auth, comptes, utilisateurs, postes, sessions, logs, stats, backups, bibliotheque, system):
        module.routes(app, ctx)
    privacy.routes(app, ctx)
