"""Settings for the multi-process test: the production settings module, plus a header
naming the worker process that answered (test only; production does not reveal PIDs)."""

import os

from catalog_site import settings as base

globals().update({name: value for name, value in vars(base).items() if name.isupper()})

MIDDLEWARE = ["tests.gunicorn_settings.worker_pid_header", *base.MIDDLEWARE]


def worker_pid_header(get_response):
    def middleware(request):
        response = get_response(request)
        response["X-Test-Worker-Pid"] = str(os.getpid())
        return response

    return middleware
