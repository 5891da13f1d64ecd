"""The documentation stands alone and reads in French: every link of README.md and docs/ points at
a file of the repository, every repository path it names exists, it cites no document kept outside
the repository, and its prose is French (code, commands and identifiers aside)."""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ['README.md'] + sorted(os.path.join('docs', name) for name in os.listdir(os.path.join(ROOT, 'docs'))
                              if name.endswith('.md'))
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
# A path of this repository in backquotes: `docs/kiosk.md`, `systemd/poste-public.service`...
REPO_PATH = re.compile(r'`((?:docs|static|appliance|tests|scripts|systemd|kiosk|bench)/[\w./-]*\w)`')
GENERATED = ('dist/', 'data/')
ENGLISH = re.compile(r'\b(the|and|with|which|when|is|are|of|this|that)\b', re.I)
FRENCH = re.compile(r'\b(le|la|les|et|est|des|une|un|du|pour|dans|qui)\b', re.I)


def read(name):
    with open(os.path.join(ROOT, name), encoding='utf-8') as f:
        return f.read()


def prose(text):
    """The text without code blocks, inline code and link targets."""
    text = re.sub(r'```.*?```', ' ', text, flags=re.S)
    text = re.sub(r'^( {4}|\t).*$', ' ', text, flags=re.M)
    text = re.sub(r'`[^`]*`', ' ', text)
    return re.sub(r'\]\([^)]*\)', ']', text)


@pytest.mark.parametrize('name', DOCS)
def test_every_link_points_at_a_file_of_the_repository(name):
    folder = os.path.dirname(os.path.join(ROOT, name))
    missing = []
    for target in LINK.findall(read(name)):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            continue
        path = os.path.normpath(os.path.join(folder, target.split('#')[0]))
        if not os.path.exists(path):
            missing.append(target)
    assert missing == []


@pytest.mark.parametrize('name', DOCS)
def test_every_repository_path_named_exists(name):
    missing = [path for path in REPO_PATH.findall(read(name))
               if not path.startswith(GENERATED) and not os.path.exists(os.path.join(ROOT, path))]
    assert missing == []


@pytest.mark.parametrize('name', DOCS)
def test_no_document_from_outside_the_repository_is_cited(name):
    text = read(name)
    for outside in ('CONTRACT', 'GUIDE.md', 'backend-README', 'shared/'):
        assert outside not in text, outside
    for cited in re.findall(r'`([\w-]+\.md)`', text):
        assert os.path.exists(os.path.join(ROOT, cited)) or os.path.exists(os.path.join(ROOT, 'docs', cited)), cited


@pytest.mark.parametrize('name', DOCS)
def test_the_prose_is_french(name):
    text = prose(read(name))
    english, french = len(ENGLISH.findall(text)), len(FRENCH.findall(text))
    assert french > 50 and english <= french / 20, (english, french)
