"""`python -m appliance.kiosk`: the kiosk without the server's entry point (no gevent at all)."""
import sys

from appliance.kiosk.cli import main

sys.exit(main(sys.argv[1:]))
