"""Entry point: `poste-public` and `python -m appliance`."""
import sys

# gevent must patch the standard library before anything else imports socket, threading or
# sqlite3. The kiosk client is a plain threaded Tk program: it is not patched.
if sys.argv[1:2] != ['kiosk']:
    from gevent import monkey
    monkey.patch_all()

    from appliance.config import uses_postgresql
    if not uses_postgresql():
        # peewee imports every database driver it finds; on SQLite, keep PostgreSQL's (about
        # 14 MB with libpq) out of memory. An import of a None entry raises ImportError.
        sys.modules.setdefault('psycopg', None)
        sys.modules.setdefault('psycopg2', None)


def main(argv=None):
    from appliance.cli import main as cli_main
    return cli_main(argv)


if __name__ == '__main__':
    sys.exit(main())
