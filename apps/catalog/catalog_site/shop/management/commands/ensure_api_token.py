"""Create (or check) the API user and its token, idempotently, without printing secrets.

    catalog-manage ensure_api_token --username uploader
    catalog-manage ensure_api_token --username uploader --token-env CATALOG_API_TOKEN
    printf '%s' "$TOKEN" | catalog-manage ensure_api_token --username uploader --token-stdin
    catalog-manage ensure_api_token --username uploader --print-token

Prints one JSON line: {"username", "user_created", "token_created", "token_replaced",
"changed"} (and "token" only with --print-token). Without a given value a random token
is created once and kept; with one, the user's token is set to it (replacing another).
"""

import hmac
import json
import os
import re
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


class Command(BaseCommand):
    help = "Create the API user and its REST token if missing (idempotent); optionally set the token's value."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="uploader", help="API user (created if missing; default: uploader)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--token-env", metavar="VAR", help="take the token value from environment variable VAR")
        source.add_argument("--token-stdin", action="store_true", help="read the token value from standard input")
        parser.add_argument("--print-token", action="store_true", help="include the token in the output")

    def handle(self, *args, username, token_env, token_stdin, print_token, **options):
        wanted = None
        if token_env:
            wanted = os.environ.get(token_env)
            if not wanted:
                raise CommandError(f"--token-env {token_env}: the variable is unset or empty")
        elif token_stdin:
            wanted = sys.stdin.read()
        if wanted is not None:
            wanted = wanted.strip()
            if not TOKEN_RE.match(wanted):
                raise CommandError("the token must be 20 to 40 characters from A-Z, a-z, 0-9, '-' and '_'")

        User = get_user_model()
        with transaction.atomic():
            user, user_created = User.objects.get_or_create(
                **{User.USERNAME_FIELD: username}, defaults={"is_active": True}
            )
            if user_created:
                user.set_unusable_password()  # API access only, through the token
                user.save(update_fields=["password"])
            elif not user.is_active:
                raise CommandError(f"user {username!r} exists but is inactive")

            token = Token.objects.filter(user=user).first()
            token_created = token_replaced = False
            if wanted is None:
                if token is None:
                    token = Token.objects.create(user=user)
                    token_created = True
            elif token is None or not hmac.compare_digest(token.key, wanted):
                other = Token.objects.filter(key=wanted).exclude(user=user).exists()
                if other:
                    raise CommandError("that token value already belongs to another user")
                if token is not None:
                    token.delete()
                    token_replaced = True
                else:
                    token_created = True
                token = Token.objects.create(user=user, key=wanted)

        result = {
            "username": username,
            "user_created": user_created,
            "token_created": token_created,
            "token_replaced": token_replaced,
            "changed": user_created or token_created or token_replaced,
        }
        if print_token:
            result["token"] = token.key
        self.stdout.write(json.dumps(result))
