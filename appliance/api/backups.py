"""Backups for the dashboard, admin only: list, run one now, download (docs/backup.md)."""
import os

import bottle

from appliance import audit, db
from appliance.api.declared import ADMIN, Name
from appliance.api.http import client_ip
from appliance.api.pagination import PAGINATION, paginate_list
from appliance.backup import service, store
from appliance.clock import iso
from appliance.errors import NotFound

ARCHIVE = Name({'type': 'string', 'pattern': f'^{store.NAME_PATTERN}$',
                'description': 'Le nom du fichier de la sauvegarde.'})


def archive_json(destination, name, size, created_at, verdict):
    return {
        'name': name,
        'destination': destination,
        'size': size,
        'created_at': iso(created_at),
        'encrypted': name.endswith('.enc'),
        'verified': None if verdict is service.UNKNOWN else verdict is None,
        'detail': verdict if isinstance(verdict, str) else None,
    }


def routes(app, ctx):
    config = ctx.config

    @app.get('/api/backups/', auth=ADMIN, query=PAGINATION,
             summary='Sauvegardes (locales et clé USB), vérifiées ou non')
    def list_backups():
        """`verified` is null while an archive this process has not read yet is being checked."""
        items = [archive_json(destination, found.name, found.size, found.created_at,
                              service.known_verdict(found, config))
                 for destination, found in service.catalog(config)]
        page = paginate_list(items)
        page['usb'] = {'folder': config.backup_usb_dir, 'problem': service.usb_problem(config)} \
            if config.backup_usb_dir else None
        page['encryption'] = {'enabled': bool(config.backup_passphrase),
                              'warning': service.encryption_advice(config)}
        return page

    @app.post('/api/backups/', auth=ADMIN, status=201,
              summary='Faire une sauvegarde maintenant (409 si une est en cours)')
    def run_backup(compte):
        result = service.run(config, now=ctx.clock.now(), operateur=compte, ip=client_ip())
        answer = archive_json('local', result.name, result.size, result.created_at, None)
        answer['usb'] = {'copied': result.usb_path is not None, 'problem': result.usb_problem} \
            if config.backup_usb_dir else None
        return answer

    @app.get('/api/backups/<name>/', auth=ADMIN, wildcards={'name': ARCHIVE},
             summary='Télécharger une sauvegarde (id : nom du fichier)')
    def download_backup(name, compte):
        where = service.find(config, name) if store.NAME.fullmatch(name) else None
        # A strict name, and a regular file only: no symbolic link dropped in a backup folder (on
        # a stick, say) can make this route serve another file of the box.
        opened = service.offload(store.open_regular, os.path.join(where[1], name)) if where else None
        if opened is None:
            raise NotFound('Sauvegarde introuvable.')
        destination, folder = where
        stream, size = opened
        try:
            with db.writing():
                audit.record('sauvegarde', now=ctx.clock.now(), operateur=compte, ip=client_ip(),
                             details=f'Sauvegarde {name} téléchargée.',
                             metadata={'archive': name, 'telechargement': True, 'destination': destination})
        except BaseException:
            stream.close()
            raise
        return bottle.HTTPResponse(stream, headers={
            'Content-Type': 'application/octet-stream', 'Content-Length': str(size),
            'Content-Disposition': f'attachment; filename="{name}"', 'Cache-Control': 'private, no-store'})
