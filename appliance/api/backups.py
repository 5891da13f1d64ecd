"""Backups for the dashboard, admin only: list, run one now, download (docs/backup.md)."""
import bottle

from appliance import audit, db
from appliance.api.http import client_ip, created, require_admin
from appliance.api.pagination import paginate_list
from appliance.backup import service, store
from appliance.clock import iso
from appliance.errors import NotFound


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

    @app.get('/api/backups/')
    def list_backups():
        """`verified` is null while an archive this process has not read yet is being checked."""
        require_admin(ctx)
        items = [archive_json(destination, found.name, found.size, found.created_at,
                              service.known_verdict(found, config.backup_passphrase))
                 for destination, found in service.catalog(config)]
        page = paginate_list(items)
        page['usb'] = {'folder': config.backup_usb_dir, 'problem': service.usb_problem(config)} \
            if config.backup_usb_dir else None
        return page

    @app.post('/api/backups/')
    def run_backup():
        admin = require_admin(ctx)
        result = service.run(config, now=ctx.clock.now(), operateur=admin, ip=client_ip())
        answer = archive_json('local', result.name, result.size, result.created_at, None)
        answer['usb'] = {'copied': result.usb_path is not None, 'problem': result.usb_problem} \
            if config.backup_usb_dir else None
        return created(answer)

    @app.get('/api/backups/<name>/')
    def download_backup(name):
        admin = require_admin(ctx)
        where = service.find(config, name) if store.NAME.fullmatch(name) else None
        if where is None:   # a strict name: nothing else can reach the disk
            raise NotFound('Sauvegarde introuvable.')
        destination, folder = where
        with db.writing():
            audit.record('sauvegarde', now=ctx.clock.now(), operateur=admin, ip=client_ip(),
                         details=f'Sauvegarde {name} téléchargée.',
                         metadata={'archive': name, 'telechargement': True, 'destination': destination})
        answer = bottle.static_file(name, root=folder, mimetype='application/octet-stream', download=name)
        answer.set_header('Cache-Control', 'private, no-store')
        return answer
