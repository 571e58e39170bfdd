# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small text files as suppliers and customers write them: one folder of ``NNN.txt``.

Private to the collection: it can change at any time.

Shared by the description and review parsers (``_descriptions``, ``_reviews``):
:func:`decode_lines` accepts what people really send (a UTF-8 byte order mark, CRLF or CR
line endings, trailing spaces, blank trailing lines) and refuses bytes that are not UTF-8
with the line and offset of the first bad byte; :func:`list_text_files` lists a folder in
natural order (``2.txt`` before ``10.txt``), hidden files skipped; :func:`parse_folder`
turns every file into an item or a :class:`ParseError`, so one bad file never hides the
good ones.
"""

from __future__ import annotations

import codecs
import os
import re

from ansible_collections.storeops.shop.plugins.module_utils._job import error_entry, format_error

TEXT_SUFFIX = '.txt'

_NEWLINE = re.compile(r'\r\n|\r|\n')
_NEWLINE_BYTES = re.compile(rb'\r\n|\r|\n')
_DIGITS = re.compile(r'(\d+)')
# C0 and C1 control characters other than tab: never part of a name, title or date.
_CONTROL = re.compile('[\x00-\x08\x0a-\x1f\x7f-\x9f]')


class ParseError(Exception):
    """One problem in one input file: ``path``, 1-based ``line`` (or None), ``message`` and the ``field`` at fault."""

    def __init__(self, path, line, message, field=None):
        super(ParseError, self).__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message
        self.field = field

    def __str__(self):
        return format_error(self.to_entry())

    def to_entry(self):
        """The error as an entry of a module's ``errors`` (see ``_job.error_entry``)."""
        return error_entry(self.message, file=self.path, line=self.line, field=self.field)


def natural_key(text):
    """Sort key that puts ``2.txt`` before ``10.txt``."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(text)]


def decode_lines(data, path):
    """Decode ``data`` (bytes) as UTF-8 text and return its lines.

    A leading UTF-8 BOM is dropped; CRLF, CR and LF all end a line; trailing whitespace is
    stripped from every line and blank lines at the end are dropped. Bytes that are not
    UTF-8 raise :class:`ParseError` with the line and the byte offset (counted in the
    file, BOM included) of the first bad byte.
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode('utf-8')
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = len(_NEWLINE_BYTES.findall(data, 0, offset)) + 1
        raise ParseError(
            path,
            line,
            'is not UTF-8 text: byte 0x%02x at byte offset %d cannot be decoded '
            '(save the file as UTF-8)' % (data[offset], offset),
        )
    lines = [line.rstrip() for line in _NEWLINE.split(text)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def read_lines(path):
    """Read ``path`` and return :func:`decode_lines` of its content."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        raise ParseError(path, None, 'cannot be read: %s' % (exc.strerror or exc))
    return decode_lines(data, path)


def list_text_files(folder, suffix=TEXT_SUFFIX):
    """Paths of the ``*suffix`` files directly in ``folder``, in natural name order.

    Hidden files (``.name``, e.g. macOS ``._001.txt``) are skipped. A folder that does not
    exist or cannot be listed raises :class:`ParseError` (line None).
    """
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise ParseError(folder, None, 'cannot list the folder: %s' % (exc.strerror or exc))
    suffix = suffix.lower()
    picked = [
        name
        for name in names
        if name.lower().endswith(suffix) and not name.startswith('.') and os.path.isfile(os.path.join(folder, name))
    ]
    return [os.path.join(folder, name) for name in sorted(picked, key=natural_key)]


def stem_of(path, suffix=TEXT_SUFFIX):
    """``'/x/004.txt'`` -> ``'004'``."""
    name = os.path.basename(path)
    return name[: -len(suffix)] if name.lower().endswith(suffix.lower()) else os.path.splitext(name)[0]


def parse_folder(folder, parse_one, suffix=TEXT_SUFFIX):
    """Apply ``parse_one(path)`` to every ``*suffix`` file in ``folder``.

    Returns ``(items, errors)``: the parsed items in natural file name order and a list of
    :class:`ParseError`, one per bad file. Only an unreadable folder raises.
    """
    items = []
    errors = []
    for path in list_text_files(folder, suffix):
        try:
            items.append(parse_one(path))
        except ParseError as exc:
            errors.append(exc)
    return items, errors


def control_character(text):
    """The first control character in ``text`` (tab allowed), or None."""
    match = _CONTROL.search(text)
    return match.group(0) if match else None


def body_text(lines, start, path, field):
    """The free text from line ``start`` (1-based) on: leading blank lines dropped, line breaks kept.

    A control character in it (tab allowed) raises :class:`ParseError` with its line and ``field``.
    """
    body = lines[start - 1 :]
    first = start
    while body and not body[0].strip():
        body.pop(0)
        first += 1
    for number, text in enumerate(body, first):
        char = control_character(text)
        if char:
            raise ParseError(path, number, 'the %s contains the control character U+%04X' % (field, ord(char)), field)
    return '\n'.join(body)
