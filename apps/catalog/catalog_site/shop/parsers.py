"""A multipart parser that rejects unsafe upload file names instead of "fixing" them.

Django's parser silently turns ``../../etc/x.png`` into ``x.png``; a client that sent
such a name has a bug or bad intentions, and either way it should hear about it.
"""

import html

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from catalog_site.shop.validators import image_name_problem


class UnsafeFileName(Exception):
    def __init__(self, name, problem):
        super().__init__(name, problem)
        self.name = name
        self.problem = problem


class _StrictDjangoMultiPartParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        raw = html.unescape(file_name)
        problem = image_name_problem(raw)
        if problem:
            raise UnsafeFileName(raw, problem)
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding") or "utf-8"
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _StrictDjangoMultiPartParser(meta, stream, request.upload_handlers, encoding)
            data, files = parser.parse()
        except UnsafeFileName as exc:
            raise ValidationError({"file": [f"Invalid file name {exc.name!r}: {exc.problem}."]}) from None
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None
        return DataAndFiles(data, files)
