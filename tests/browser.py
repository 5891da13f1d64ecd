"""Headless Chromium through Playwright for the page tests: Debian's chromium,
never a downloaded browser.

CI installs both; a developer without them still runs every other test: importing this module
skips the importing test module there. The `browser` fixture is in conftest.py.
"""
import os
import shutil

import pytest

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=fr-FR']

if not os.environ.get('CI'):
    pytest.importorskip('playwright.sync_api')
    if not shutil.which(CHROMIUM):
        pytest.skip('needs Chromium (apt-get install chromium)', allow_module_level=True)
from playwright.sync_api import expect, sync_playwright  # noqa: E402

__all__ = ['CHROMIUM', 'CHROMIUM_ARGS', 'expect', 'launch', 'sync_playwright']


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
