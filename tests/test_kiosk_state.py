"""The Tk kiosk's state machine: what only the Python side has. Its protocol behaviour is in the
scenario table that drives both kiosk clients (tests/kiosk_scenarios.json, test_kiosk_scenarios.py)."""
import json
import os
import subprocess
import sys

import pytest

from appliance.kiosk.state import format_remaining, minutes_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('seconds, text', [
    (0, '00:00'), (59, '00:59'), (600, '10:00'), (3599, '59:59'), (3600, '1:00:00'),
    (86399, '23:59:59'), (-5, '00:00')])
def test_format_remaining(seconds, text):
    assert format_remaining(seconds) == text


@pytest.mark.parametrize('seconds, text', [
    (20, "moins d'une minute"), (29, "moins d'une minute"), (30, '1 minute'), (60, '1 minute'),
    (89, '1 minute'), (90, '2 minutes'), (150, '3 minutes'), (300, '5 minutes'), (600, '10 minutes')])
def test_minutes_text(seconds, text):
    assert minutes_text(seconds) == text


def test_the_state_machine_needs_nothing_but_the_standard_library():
    """The kiosk will ship without the server: the state machine may import appliance.protocol and
    appliance.kiosk.*, nothing else of the appliance, nothing from outside the standard library."""
    script = ('import json, sys; before = set(sys.modules); import appliance.kiosk.state; '
              'print(json.dumps(sorted(set(sys.modules) - before)))')
    done = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    loaded = json.loads(done.stdout)
    ours = {name for name in loaded if name.split('.')[0] == 'appliance'}
    assert 'appliance.protocol' in ours
    assert {name for name in ours if name != 'appliance' and not name.startswith('appliance.kiosk')
            and name != 'appliance.protocol'} == set()
    outside = {name for name in loaded if name.split('.')[0] not in sys.stdlib_module_names
               and name.split('.')[0] != 'appliance'}
    assert outside == set()
