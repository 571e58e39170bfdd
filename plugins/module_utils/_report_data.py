# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loading the rows of a report (``kind=table``) and the helpers every report kind shares.

Private to the collection: it can change at any time. No reportlab here.
"""

from __future__ import annotations

import csv
import io
import json
import re

from ansible_collections.storeops.shop.plugins.module_utils._job import JobError

_NUMBER = re.compile(r'^[-+]?\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[-+]?\$?\s*\.\d+$')


class ReportError(JobError):
    """The report cannot be built (nothing is written); ``errors`` lists the bad inputs."""


def as_number(text):
    """``'1,234'``/``'$13724.05'``/``'-3.5'`` -> float, or None if ``text`` is not a number."""
    text = text.strip()
    if not text or not _NUMBER.match(text):
        return None
    return float(text.replace('$', '').replace(',', '').replace(' ', ''))


def _source_name(src):
    return src if isinstance(src, str) else 'src'


def _read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError as exc:
        raise ReportError('cannot read src %s: %s' % (path, exc.strerror or exc))


def _decode(data, source):
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise ReportError(
            '%s is not UTF-8 text: byte 0x%02x at byte offset %d cannot be decoded'
            % (source, data[exc.start], exc.start)
        )


def _load_json(path):
    text = _decode(_read_bytes(path), path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError('%s is not valid JSON: %s at line %d, column %d' % (path, exc.msg, exc.lineno, exc.colno))


def _cell(value):
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def kind_of(value):
    return (
        'an object'
        if isinstance(value, dict)
        else 'a list'
        if isinstance(value, list)
        else 'a %s' % type(value).__name__
    )


def load_rows(src, columns=None):
    """Rows for ``kind=table``: ``(header, rows)`` as text.

    ``src`` is a list (of lists or of dicts) or the path of a ``.json`` file holding one, or
    of a ``.csv`` file. For lists of lists (and CSV) the first row is the header unless
    ``columns`` is given. For dicts, ``columns`` picks and orders the keys (default: every
    key, in the order they first appear); a missing key is an empty cell.
    """
    source = _source_name(src)
    if isinstance(src, str):
        if src.lower().endswith('.csv'):
            text = _decode(_read_bytes(src), src)
            data = [row for row in csv.reader(io.StringIO(text, newline='')) if row]
        else:
            data = _load_json(src)
    else:
        data = src
    if not isinstance(data, list):
        raise ReportError('%s: expected a list of rows, got %s' % (source, kind_of(data)))
    if not data:
        raise ReportError('%s: there are no rows; refusing to build an empty report' % source)
    if columns is not None:
        columns = [str(column) for column in columns]
        if not columns:
            raise ReportError('columns must not be empty')
    if all(isinstance(row, dict) for row in data):
        if columns is None:
            header = []
            seen = set()
            for row in data:
                for key in row:
                    if key not in seen:
                        seen.add(key)
                        header.append(key)
        else:
            header = columns
        rows = [[_cell(row.get(key)) for key in header] for row in data]
        return [str(key) for key in header], rows
    for index, row in enumerate(data):
        if not isinstance(row, (list, tuple)):
            raise ReportError(
                '%s: rows must all be lists or all be objects; the row at index %d is %s'
                % (source, index, kind_of(row))
            )
    if columns is None:
        header, body, first = [_cell(cell) for cell in data[0]], data[1:], 1
    else:
        header, body, first = columns, data, 0
    if not body:
        raise ReportError('%s: there is a header but no rows; refusing to build an empty report' % source)
    rows = []
    for index, row in enumerate(body, first):
        if len(row) > len(header):
            raise ReportError(
                '%s: the row at index %d has %d cells but the header has %d' % (source, index, len(row), len(header))
            )
        rows.append([_cell(cell) for cell in row] + [''] * (len(header) - len(row)))
    return header, rows


def sort_rows(header, rows, sort_by, order=None):
    """Stable sort of table rows by the column named ``sort_by`` (numbers numerically)."""
    lowered = [name.lower() for name in header]
    if sort_by in header:
        col = header.index(sort_by)
    elif sort_by.lower() in lowered:
        col = lowered.index(sort_by.lower())
    else:
        raise ReportError('sort_by %r is not a column; the columns are: %s' % (sort_by, ', '.join(header)))
    order = order or 'asc'
    filled = [row for row in rows if row[col].strip()]
    empty = [row for row in rows if not row[col].strip()]
    numbers = [as_number(row[col]) for row in filled]
    if all(number is not None for number in numbers):
        keyed = sorted(zip(numbers, range(len(filled))), key=lambda item: item[0], reverse=(order == 'desc'))
        ordered = [filled[i] for _n, i in keyed]
    else:
        ordered = sorted(filled, key=lambda row: row[col].casefold(), reverse=(order == 'desc'))
    return ordered + empty  # empty cells last either way
