# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Supplier product descriptions (``NNN.txt``), shared by build_report and catalog_upload.

File format (course Module 4)::

    Apple                      <- line 1: product name
    500 lbs                    <- line 2: weight in pounds
    Apples are sweet and ...   <- line 3 and later: the description (may span lines)

What suppliers really send is accepted: CRLF or CR line endings, a UTF-8 byte order
mark, trailing spaces, blank trailing lines, and weights written ``500lbs``,
``500 LBS``, ``500 lb`` or ``500 pounds``. Everything else is rejected with a
:class:`ParseError` that names the file, the line and what is wrong, for example::

    descriptions/004.txt line 2: weight 'five hundred lbs' is not a number of pounds
    (write it like '500 lbs')

:func:`parse_descriptions` parses a whole folder: good files become products, bad files
become errors, and one bad file never hides the good ones. Each product carries its
``stem`` (``'004'`` for ``004.txt``) so a caller can look for the matching image
(``004.jpeg``); checking that the image exists is the caller's job.

The small text helpers here (:func:`decode_lines`, :func:`list_text_files`,
:class:`ParseError`) are reused by ``_reviews``.
"""

from __future__ import annotations

import codecs
import os
import re

TEXT_SUFFIX = '.txt'

_NEWLINE = re.compile(r'\r\n|\r|\n')
_NEWLINE_BYTES = re.compile(rb'\r\n|\r|\n')
_DIGITS = re.compile(r'(\d+)')
# sign, number (with optional thousands separators and decimals), unit
_WEIGHT = re.compile(r'^([+-]?)\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*([^\d\s].*)?$')
_POUNDS = frozenset(('lb', 'lbs', 'lb.', 'lbs.', 'pound', 'pounds'))


class ParseError(Exception):
    """One problem in one input file: ``path``, 1-based ``line`` (or None) and ``message``."""

    def __init__(self, path, line, message):
        super(ParseError, self).__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self):
        if self.line:
            return '%s line %d: %s' % (self.path, self.line, self.message)
        return '%s: %s' % (self.path, self.message)

    def to_dict(self):
        """The error as data, for a module's return value."""
        return {'file': self.path, 'line': self.line, 'message': self.message, 'error': str(self)}


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
        raise ParseError(path, line, 'is not UTF-8 text: byte 0x%02x at byte offset %d cannot be decoded '
                                     '(save the file as UTF-8)' % (data[offset], offset))
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
    picked = [name for name in names
              if name.lower().endswith(suffix) and not name.startswith('.')
              and os.path.isfile(os.path.join(folder, name))]
    return [os.path.join(folder, name) for name in sorted(picked, key=natural_key)]


def stem_of(path, suffix=TEXT_SUFFIX):
    """``'/x/004.txt'`` -> ``'004'``."""
    name = os.path.basename(path)
    return name[:-len(suffix)] if name.lower().endswith(suffix.lower()) else os.path.splitext(name)[0]


def parse_weight(text):
    """Return the weight in whole pounds from text like ``500 lbs``; ValueError says why not."""
    text = text.strip()
    if not text:
        raise ValueError("missing weight (write it like '500 lbs')")
    match = _WEIGHT.match(text)
    if not match:
        raise ValueError("weight %r is not a number of pounds (write it like '500 lbs')" % text)
    sign, number, decimals, unit = match.groups()
    if unit is None:
        raise ValueError("weight %r has no unit (write it like '500 lbs')" % text)
    if unit.strip().lower() not in _POUNDS:
        raise ValueError("weight %r is not in pounds: unit %r is not lbs (write it like '500 lbs')" % (text, unit.strip()))
    shown = '%s%s%s' % (sign, number, decimals or '')
    if decimals and decimals.strip('.0'):
        raise ValueError('weight must be a whole number of pounds, got %s' % shown)
    value = int(number.replace(',', ''))
    if sign == '-':
        value = -value
    if value <= 0:
        raise ValueError('weight must be a positive number of pounds, got %s' % shown)
    return value


def parse_description_lines(lines, path):
    """Turn the lines of one description file into a product dict (see :func:`parse_description`)."""
    name = lines[0].strip() if lines else ''
    if not name:
        raise ParseError(path, 1, 'missing name: the first line must be the product name')
    try:
        weight = parse_weight(lines[1] if len(lines) > 1 else '')
    except ValueError as exc:
        raise ParseError(path, 2, str(exc))
    body = lines[2:]
    while body and not body[0].strip():
        body.pop(0)
    return {
        'stem': stem_of(path),
        'file': path,
        'name': name,
        'weight': weight,
        'description': '\n'.join(body),
    }


def parse_description_bytes(data, path):
    """Parse the content of one description file given as bytes."""
    return parse_description_lines(decode_lines(data, path), path)


def parse_description(path):
    """Parse one ``NNN.txt`` file.

    Returns ``{'stem', 'file', 'name', 'weight', 'description'}`` where ``weight`` is an
    int (pounds) and ``description`` keeps its line breaks (it may be empty: whether a
    product needs one is for the caller to decide). Raises :class:`ParseError`.
    """
    return parse_description_lines(read_lines(path), path)


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


def parse_descriptions(folder, suffix=TEXT_SUFFIX):
    """Parse every description file in ``folder``: ``(products, errors)``, see :func:`parse_folder`."""
    return parse_folder(folder, parse_description, suffix)


def format_errors(errors, limit=20):
    """One readable string for a list of :class:`ParseError` (at most ``limit`` shown)."""
    shown = [str(error) for error in errors[:limit]]
    if len(errors) > limit:
        shown.append('... and %d more' % (len(errors) - limit))
    return '; '.join(shown)
