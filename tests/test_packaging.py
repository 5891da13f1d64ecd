"""An installed copy stands on its own (docs/install.md): a wheel built from the repository,
installed into a fresh virtual environment outside the checkout, serves the dashboard, the kiosk
page and their assets."""
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile

import pytest

from tests.live import ROOT, LiveServer


PROJECT = ('appliance', 'static', 'setup.py', 'setup.cfg', 'pyproject.toml', 'README.md')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """The wheel, built the way `pip install .` builds (an isolated build), from a copy of the
    project's files: nothing is written into the checkout, nothing stale is picked up from it."""
    source, out = tmp_path_factory.mktemp('source'), tmp_path_factory.mktemp('wheel')
    for name in PROJECT:
        path = os.path.join(ROOT, name)
        if not os.path.exists(path):
            continue
        if os.path.isdir(path):
            shutil.copytree(path, source / name, symlinks=True, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy(path, source / name)
    done = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--quiet', '-w', str(out), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [name] = [n for n in os.listdir(out) if n.endswith('.whl')]
    return out / name


def test_the_wheel_carries_the_pages(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    static = os.path.join(ROOT, 'static')
    for folder, _, files in os.walk(static):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), static).replace(os.sep, '/')
            assert f'appliance/static/{relative}' in names, relative
    assert 'appliance/migrations/0001_initial.py' in names
    assert not any(n.startswith(('static/', 'tests/')) for n in names)


def test_an_installed_wheel_serves_the_pages(wheel, tmp_path):
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, timeout=120)
    python = str(venv / 'bin' / 'python')
    done = subprocess.run([python, '-m', 'pip', 'install', '--quiet', '--no-deps', '--no-index', str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # The dependencies are the test environment's (no network here): a path entry to its
    # site-packages, which holds no copy of the appliance itself.
    purelib = subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, 'test-dependencies.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    where = subprocess.run([python, '-c', 'import appliance; print(appliance.__file__)'], cwd=str(tmp_path),
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(purelib) and not where.startswith(ROOT)

    folder = tmp_path / 'box'
    folder.mkdir()
    server = LiveServer(folder, python=python).start()
    try:
        status, page = server.request('GET', '/')
        assert status == 200 and b'/static/app/main.js' in page
        status, page = server.request('GET', '/kiosk/')
        assert status == 200 and b'kiosk' in page
        static = os.path.join(ROOT, 'static')
        for folder, _, files in os.walk(static):     # every asset, byte for byte
            for name in files:
                path = os.path.join(folder, name)
                url = '/static/' + os.path.relpath(path, static).replace(os.sep, '/')
                status, served = server.request('GET', url)
                with open(path, 'rb') as f:
                    content = f.read()
                assert status == 200 and (served == content or served == json.loads(content)), url
        assert server.request('GET', '/static/../setup.py')[0] in (403, 404)
    finally:
        server.stop()
