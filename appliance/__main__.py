"""Entry point: `poste-public` and `python -m appliance`."""
# gevent must patch the standard library before anything else imports socket,
# threading or sqlite3 (GUIDE pitfall 1).
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402


def main(argv=None):
    from appliance.cli import main as cli_main
    return cli_main(argv)


if __name__ == '__main__':
    sys.exit(main())
