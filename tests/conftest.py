"""Test set-up. gevent patches first, as in the real entry point."""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

import pytest  # noqa: E402

from tests import support  # noqa: E402
from tests.live import LiveServer  # noqa: E402


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
def live(tmp_path):
    """A real `poste-public serve` on a free port (subprocess), stopped after the test."""
    server = LiveServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium for the page tests (tests/browser.py), one per test module."""
    from tests.browser import launch, sync_playwright
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
