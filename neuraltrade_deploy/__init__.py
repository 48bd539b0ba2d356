"""nt-deploy: canary deployments for ECS services behind ALB weighted target groups."""

from importlib.metadata import PackageNotFoundError, version

# One source: pyproject's [project] version, as the installed distribution's metadata
# holds it (tests/packaging/test_wheel.py builds a wheel with another version to prove it).
try:
    __version__ = version("nt-deploy")
except PackageNotFoundError:  # a checkout on PYTHONPATH that was never pip-installed
    __version__ = "0+unknown"
