"""Install mmfashion_attr (``pip install -e .``)."""

import os

from setuptools import find_packages, setup


def read_requirements(name):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, name), encoding='utf-8') as f:
        return [
            line.strip()
            for line in f
            if line.strip() and not line.startswith(('#', '-r'))
        ]


def read_version():
    ns = {}
    with open(os.path.join('mmfashion_attr', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='mmfashion_attr',
    version=read_version(),
    description=(
        'Multi-scale fashion attribute extraction with multi-task '
        'learning (Parekh & Shaik, VISAPP 2023) for mmpretrain'
    ),
    packages=find_packages(include=['mmfashion_attr', 'mmfashion_attr.*']),
    python_requires='>=3.10',
    install_requires=read_requirements('requirements.txt'),
    extras_require=dict(dev=read_requirements('requirements-dev.txt')),
    license='Apache-2.0',
)
