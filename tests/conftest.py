"""Test set-up. gevent patches first, as in the real entry point."""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

import pytest  # noqa: E402

from tests import support  # noqa: E402
from tests.live import LiveServer, start_running_session  # noqa: E402


@pytest.fixture(scope='session')
def bound_database(tmp_path_factory):
    """One migrated database for the in-process tests (SQLite file, or PostgreSQL schema)."""
    schema = f'inproc{os.getpid()}'  # concurrent runs on one PostgreSQL must not share tables
    url = support.database_url(schema, tmp_path_factory.mktemp('db'))
    support.bind_and_migrate(url)
    yield url
    support.drop_schema(schema)


@pytest.fixture
def ctx(bound_database, tmp_path):
    """A fresh appliance context on an emptied database, with a clock that moves only when told."""
    support.empty_database()
    context = support.make_context(tmp_path)
    yield context
    support.empty_database()


@pytest.fixture
def client(ctx):
    return support.Client(support.make_app(ctx))


@pytest.fixture
def admin(ctx):
    return support.make_compte('admin', role='admin')


@pytest.fixture
def staff(ctx):
    return support.make_compte('bibliothecaire', role='staff')


@pytest.fixture
def admin_token(client, admin):
    return client.login('admin')


@pytest.fixture
def staff_token(client, staff):
    return client.login('bibliothecaire')


@pytest.fixture
def live_server(tmp_path):
    """A factory: `live_server(SETTING=value, ...)` starts a real `poste-public serve` on a free
    port (a subprocess with those environment settings and a data folder of its own);
    `live_server(share=other)` starts another process on `other`'s database. Every server it
    started is stopped after the test, even one the test already stopped or restarted."""
    started = []

    def start(share=None, **settings):
        folder = tmp_path / f'server{len(started) + 1}'
        folder.mkdir()
        server = LiveServer(folder, share=share, **settings)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live(live_server):
    """A real server with the default settings."""
    return live_server()


@pytest.fixture
def running(live):
    """A session running on a kiosk connected to a real server (tests/live.py RunningKiosk)."""
    return start_running_session(live)


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium for the page tests (tests/browser.py), one per test module."""
    from tests.browser import launch, sync_playwright
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
