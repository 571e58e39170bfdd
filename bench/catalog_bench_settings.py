"""Settings for the local benchmark only: the production settings plus the naive views
to compare against, mounted under /naive/ (they exist nowhere else)."""

from catalog_site import settings as base

globals().update({name: value for name, value in vars(base).items() if name.isupper()})

ROOT_URLCONF = "catalog_bench_urls"
