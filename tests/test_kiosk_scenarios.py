"""The kiosk protocol, tested once: tests/kiosk_scenarios.json played on both kiosk clients.

The Tk kiosk's state machine (appliance/kiosk/state.py) plays it here; the web kiosk's
(static/kiosk/state.js) plays it in headless Chromium, imported by a page of a live appliance
(tests/kiosk_scenario_runner.js). Both report, step by step, the effects asked for and what the
screen would show; one function compares that with the table, so a failure names the client, the
scenario and the step. Also here: the web kiosk's copy of appliance/protocol.py is the same.
"""
import inspect
import json
import os

import pytest

from appliance import protocol
from appliance.kiosk.state import SAVE, KioskState, format_remaining
from tests.live import LiveServer

HERE = os.path.dirname(os.path.abspath(__file__))
START_MONOTONIC_MS = 100_000
START_WALL_MS = 1_800_000_000_000
INPUTS = {'connect', 'disconnect', 'server', 'type_code', 'end_session', 'dismiss_notice', 'wait',
          'resume', 'observe'}
INPUTS |= {'pause', 'request_time', 'activity'}       # live control (docs/kiosk.md)
INPUTS |= {'accept_charter', 'decline_charter'}
OBSERVED = {'locked', 'code', 'remaining', 'countdown', 'feedback', 'notice', 'link',
            'can_enter_code', 'waiting_answer', 'library', 'home_page'}
OBSERVED |= {'paused', 'message', 'request_pending'}
OBSERVED |= {'charter'}
PYTHON = 'Tk kiosk (appliance/kiosk/state.py)'
WEB = 'web kiosk (static/kiosk/state.js in Chromium)'


def load_table():
    with open(os.path.join(HERE, 'kiosk_scenarios.json'), encoding='utf-8') as f:
        return json.load(f)


def scenarios():
    """Each scenario with its prelude's steps first, and a label for every step."""
    table = load_table()
    result = []
    for scenario in table['scenarios']:
        given = scenario.get('given')
        prelude = table['preludes'][given] if given else []
        labels = ['step {} (prelude "{}" {})'.format(n, given, n) for n in range(1, len(prelude) + 1)]
        labels += ['step {}'.format(n) for n in range(len(prelude) + 1, len(prelude) + len(scenario['steps']) + 1)]
        result.append(pytest.param({'name': scenario['name'], 'steps': prelude + scenario['steps'],
                                    'labels': labels}, id=scenario['name']))
    return result


SCENARIOS = scenarios()


# -- the two players ------------------------------------------------------------------------------

class Clock:
    """Whole milliseconds, as the page's clock: both clients see exactly the same times."""

    def __init__(self):
        self.monotonic_ms = START_MONOTONIC_MS
        self.wall_ms = START_WALL_MS

    def monotonic(self):
        return self.monotonic_ms / 1000

    def time(self):
        return self.wall_ms / 1000


def play_python(steps):
    clock = Clock()
    kiosk = KioskState(clock)
    records = []
    for step in steps:
        effects = []
        if 'server' in step:
            effects = kiosk.handle_message(step['server'])
        elif 'connect' in step:
            effects = kiosk.connected()
        elif 'disconnect' in step:
            effects = kiosk.disconnected(step['disconnect'])
        elif 'type_code' in step:
            effects = kiosk.submit_code(step['type_code'])
        elif 'end_session' in step:
            effects = kiosk.end_session()
        elif 'dismiss_notice' in step:
            kiosk.dismiss_notice()
        elif 'accept_charter' in step:
            effects = kiosk.accept_charter()
        elif 'decline_charter' in step:
            effects = kiosk.decline_charter()
        elif 'wait' in step:
            ms = round(step['wait'] * 1000)
            clock.monotonic_ms += ms
            clock.wall_ms += ms
            effects = kiosk.tick()
        elif 'resume' in step:
            effects = kiosk.resume(step['resume']['code'], clock.time() + step['resume']['left'])
        elif 'pause' in step:
            effects = kiosk.pause()
        elif 'request_time' in step:
            effects = kiosk.request_time(step['request_time'])
        elif 'activity' in step:
            kiosk.activity()
        records.append({
            'effects': [[SAVE, e[1], round(e[2] - clock.time(), 3)] if e[0] == SAVE else list(e)
                        for e in effects],
            'state': {
                'locked': kiosk.locked, 'code': kiosk.code, 'remaining': kiosk.remaining(),
                'countdown': format_remaining(kiosk.remaining()), 'feedback': list(kiosk.feedback),
                'notice': kiosk.notice, 'link': kiosk.link_text, 'can_enter_code': kiosk.can_enter_code,
                'waiting_answer': kiosk.waiting_answer, 'library': kiosk.library_name,
                'home_page': kiosk.home_page,
                'paused': kiosk.paused, 'message': kiosk.message, 'request_pending': kiosk.request_pending,
                'charter': kiosk.charter,
            },
        })
    return records


def runner_script():
    with open(os.path.join(HERE, 'kiosk_scenario_runner.js'), encoding='utf-8') as f:
        # The header comment goes: Playwright takes the text for a function only when it starts as one.
        return '\n'.join(line for line in f.read().splitlines() if not line.startswith('//'))


@pytest.fixture(scope='module')
def kiosk_page(browser, tmp_path_factory):
    """A page of a live appliance: the unconfigured kiosk page, whose modules load and open no socket."""
    from tests.browser import expect
    server = LiveServer(tmp_path_factory.mktemp('kiosk-scenarios'))
    server.start()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base_url + '/kiosk/')
        expect(page.locator('#feedback')).to_contain_text("Ce terminal n'est pas configuré")
        yield page
    finally:
        context.close()
        server.stop()


def play_web(page, steps):
    return page.evaluate(runner_script(), {'steps': steps, 'monotonicMs': START_MONOTONIC_MS,
                                           'wallMs': START_WALL_MS})


# -- the comparison -------------------------------------------------------------------------------

def same(actual, expected):
    """Equal as JSON values: a boolean is never a number, 1800.0 is 1800."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in actual)
    return type(actual) is type(expected) and actual == expected


def check(client, scenario, records):
    assert len(records) == len(scenario['steps'])
    for step, label, record in zip(scenario['steps'], scenario['labels'], records):
        said = {key: value for key, value in step.items() if key not in ('effects', 'then')}
        where = '{}\nscenario "{}", {}: {}'.format(
            client, scenario['name'], label, json.dumps(said, ensure_ascii=False)[:300])
        expected = step.get('effects', [])
        if not same(record['effects'], expected):
            pytest.fail('{}\n  effects expected: {}\n               got: {}'.format(
                where, json.dumps(expected, ensure_ascii=False), json.dumps(record['effects'], ensure_ascii=False)),
                pytrace=False)
        for key, value in step.get('then', {}).items():
            if not same(record['state'][key], value):
                pytest.fail('{}\n  {} expected: {!r}\n  {} got:      {!r}'.format(
                    where, key, value, ' ' * len(key), record['state'][key]), pytrace=False)


def test_the_table_is_well_formed():
    table = load_table()
    names = [scenario['name'] for scenario in table['scenarios']]
    assert len(names) == len(set(names)), 'scenario names must be unique'
    for scenario in SCENARIOS:
        scenario = scenario.values[0]
        for step, label in zip(scenario['steps'], scenario['labels']):
            inputs = INPUTS & step.keys()
            assert len(inputs) == 1, (scenario['name'], label, step)
            assert step.keys() - INPUTS <= {'effects', 'then', 'note'}, (scenario['name'], label, step)
            assert step.get('then', {}).keys() <= OBSERVED, (scenario['name'], label, step)


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_tk_kiosk(scenario):
    check(PYTHON, scenario, play_python(scenario['steps']))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_web_kiosk(kiosk_page, scenario):
    check(WEB, scenario, play_web(kiosk_page, scenario['steps']))


def test_a_wrong_expectation_names_the_client_the_scenario_and_the_step():
    scenario = dict(SCENARIOS[0].values[0])
    scenario['steps'] = [dict(step) for step in scenario['steps']]
    scenario['steps'][-1]['then'] = {'waiting_answer': True}
    with pytest.raises(pytest.fail.Exception) as failure:
        check(PYTHON, scenario, play_python(scenario['steps']))
    message = str(failure.value)
    assert PYTHON in message and scenario['name'] in message
    assert 'step {}'.format(len(scenario['steps'])) in message and 'waiting_answer' in message


# -- the web kiosk's copy of appliance/protocol.py -------------------------------------------------

PYTHON_ONLY = {'StaffEvent'}     # the staff dashboard's live feed: nothing for a kiosk


def python_protocol():
    constants = {}
    for name, value in vars(protocol).items():
        if name.startswith('_') or name in PYTHON_ONLY or inspect.ismodule(value) or inspect.isfunction(value):
            continue
        if inspect.isclass(value):
            value = {key: item for key, item in vars(value).items() if not key.startswith('_')}
        constants[name] = list(value) if isinstance(value, tuple) else value
    return constants


def test_the_web_kiosk_protocol_constants_are_pythons(kiosk_page):
    web = kiosk_page.evaluate("""async () => {
        const module = await import('/static/kiosk/protocol.js');
        return Object.fromEntries(Object.entries(module).filter(([, value]) => typeof value !== 'function'));
    }""")
    python = python_protocol()
    assert {'Type', 'Action', 'Reason', 'Close', 'CODE_LENGTH', 'MAINTENANCE'} <= python.keys()
    assert web == python


CODE_SAMPLES = ['abc 234', 'ABC-234', ' a.b/c_2\t3 4 ', 'àbc234', 'Straße', 'ﬁle', 'ıi', 'İ', 'ǆ', 'ŉ',
                '１２３', '²³', 'Ⅻ', '', '🙂ABC', 'x' * 40, '\x00A\u200bB']


def test_the_web_kiosk_normalises_codes_as_python(kiosk_page):
    web = kiosk_page.evaluate("""async (samples) => {
        const {normaliseCode} = await import('/static/kiosk/protocol.js');
        return samples.map(normaliseCode);
    }""", CODE_SAMPLES)
    assert web == [protocol.normalise_code(sample) for sample in CODE_SAMPLES]
