"""WSGI application for the multi-process tests: the production one (``catalog_site.wsgi``,
fast reads included), plus a header naming the worker process that answered (test only;
production does not reveal PIDs). A WSGI wrapper rather than a Django middleware, because the
fast reads are answered in front of Django's middleware."""

import os

from catalog_site.wsgi import application as site_application


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Test-Worker-Pid", str(os.getpid()))], exc_info)

    return site_application(environ, start)
