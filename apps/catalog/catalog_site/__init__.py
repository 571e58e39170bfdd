"""The storeops.shop catalog site (Django project package)."""

__version__ = "1.0.0"
