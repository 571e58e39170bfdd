# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Supplier product descriptions (``NNN.txt``), shared by build_report and catalog_upload.

Private to the collection: it can change at any time.

File format::

    Apple                      <- line 1: product name
    500 lbs                    <- line 2: weight in pounds
    Apples are sweet and ...   <- line 3 and later: the description (may span lines)

What suppliers really send is accepted: CRLF or CR line endings, a UTF-8 byte order
mark, trailing spaces, blank trailing lines, and weights written ``500lbs``,
``500 LBS``, ``500 lb`` or ``500 pounds``. Everything else is rejected with a
:class:`ParseError` that names the file, the line, the field and what is wrong, for example::

    descriptions/004.txt line 2 (weight): weight 'five hundred lbs' is not a number of pounds
    (write it like '500 lbs')

:func:`parse_descriptions` parses a whole folder: good files become products, bad files
become errors, and one bad file never hides the good ones. Each product carries its
``stem`` (``'004'`` for ``004.txt``) so a caller can look for the matching image
(``004.jpeg``); checking that the image exists is the caller's job.
"""

from __future__ import annotations

import re

from ansible_collections.storeops.shop.plugins.module_utils._textfiles import (
    TEXT_SUFFIX,
    ParseError,
    body_text,
    control_character,
    parse_folder,
    read_lines,
    stem_of,
)

# sign, number (with optional thousands separators and decimals), unit
_WEIGHT = re.compile(r'^([+-]?)\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*([^\d\s].*)?$')
_POUNDS = frozenset(('lb', 'lbs', 'lb.', 'lbs.', 'pound', 'pounds'))


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
        raise ValueError(
            "weight %r is not in pounds: unit %r is not lbs (write it like '500 lbs')" % (text, unit.strip())
        )
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
        raise ParseError(path, 1, 'missing name: the first line must be the product name', 'name')
    char = control_character(name)
    if char:
        raise ParseError(path, 1, 'the name contains the control character U+%04X' % ord(char), 'name')
    try:
        weight = parse_weight(lines[1] if len(lines) > 1 else '')
    except ValueError as exc:
        raise ParseError(path, 2, str(exc), 'weight')
    return {
        'stem': stem_of(path),
        'file': path,
        'name': name,
        'weight': weight,
        'description': body_text(lines, 3, path, 'description'),
    }


def parse_description(path):
    """Parse one ``NNN.txt`` file.

    Returns ``{'stem', 'file', 'name', 'weight', 'description'}`` where ``weight`` is an
    int (pounds) and ``description`` keeps its line breaks (it may be empty: whether a
    product needs one is for the caller to decide). Raises :class:`ParseError`.
    """
    return parse_description_lines(read_lines(path), path)


def parse_descriptions(folder, suffix=TEXT_SUFFIX):
    """Parse every description file in ``folder``: ``(products, errors)``, see :func:`parse_folder`."""
    return parse_folder(folder, parse_description, suffix)
