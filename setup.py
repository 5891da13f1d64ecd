"""Everything is in setup.cfg but the list of packages: the repository keeps the pages in its
top-level static/ folder, and an installed copy carries them inside the package, as
`appliance/static` (where the server looks for them)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=['appliance', 'appliance.*']) + ['appliance.static'],
    package_dir={'appliance.static': 'static'},
)
