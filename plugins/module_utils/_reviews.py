# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Customer reviews (``NNN.txt``), in the same style as ``_descriptions``.

Private to the collection: it can change at any time.

File format::

    Experienced salespeople    <- line 1: title
    Alex H.                    <- line 2: name
    2020-02-02                 <- line 3: date, YYYY-MM-DD
    It was great to talk ...   <- line 4 and later: the feedback (may span lines)

CRLF/CR line endings, a UTF-8 BOM, trailing spaces and blank trailing lines are
accepted. A missing title, name or feedback, a date that is not a real YYYY-MM-DD date,
and text that is not UTF-8 are rejected with a :class:`ParseError` naming the file and
line. :func:`parse_reviews` returns good reviews and per-file errors separately.
"""

from __future__ import annotations

import datetime
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

_ISO_DATE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})$')


def parse_date(text):
    """``'2020-02-02'`` -> ``datetime.date``; ValueError explains what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError('missing date (write it as YYYY-MM-DD, e.g. 2020-02-02)')
    match = _ISO_DATE.match(text)
    if not match:
        raise ValueError('date %r is not a date in YYYY-MM-DD form (e.g. 2020-02-02)' % text)
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ValueError('date %r is not a real date (%s)' % (text, exc))


def parse_review_lines(lines, path):
    """Turn the lines of one review file into a review dict (see :func:`parse_review`)."""

    def line(number):
        return lines[number - 1].strip() if len(lines) >= number else ''

    title = line(1)
    if not title:
        raise ParseError(path, 1, 'missing title: the first line must be the review title', 'title')
    name = line(2)
    if not name:
        raise ParseError(path, 2, "missing name: the second line must be the reviewer's name", 'name')
    for number, field, text in ((1, 'title', title), (2, 'name', name)):
        char = control_character(text)
        if char:
            raise ParseError(path, number, 'the %s contains the control character U+%04X' % (field, ord(char)), field)
    try:
        date = parse_date(line(3))
    except ValueError as exc:
        raise ParseError(path, 3, str(exc), 'date')
    feedback = body_text(lines, 4, path, 'feedback')
    if not feedback:
        raise ParseError(path, 4, 'missing feedback: the review text starts on line 4', 'feedback')
    return {
        'stem': stem_of(path),
        'file': path,
        'title': title,
        'name': name,
        'date': date.isoformat(),
        'feedback': feedback,
    }


def parse_review(path):
    """Parse one review file: ``{'stem', 'file', 'title', 'name', 'date', 'feedback'}``.

    ``date`` is the normalised ``YYYY-MM-DD`` string. Raises :class:`ParseError`.
    """
    return parse_review_lines(read_lines(path), path)


def parse_reviews(folder, suffix=TEXT_SUFFIX):
    """Parse every review file in ``folder``: ``(reviews, errors)`` in natural file name order."""
    return parse_folder(folder, parse_review, suffix)
