"""Package layout: the layer folders stay at the top of the repository and install under the
one import name ``innatura`` (``innatura.planner``, ``innatura.scenarios``, ``innatura.abm``,
``innatura.viz``); everything else is in ``pyproject.toml``."""

from setuptools import find_packages, setup

#: import name -> folder
LAYERS = {
    "innatura": "innatura",
    "innatura.planner": "planner",
    "innatura.scenarios": "scenarios",
    "innatura.abm": "abm",
    "innatura.viz": "viz",
}

packages = []
for name, folder in LAYERS.items():
    packages.append(name)
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

setup(package_dir=LAYERS, packages=packages)
