# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``build_report`` kind ``csv_aggregate``: a month of daily CSV files -> the monthly report.

Private to the collection: it can change at any time. No reportlab here.

The daily files (``*.csv`` directly in ``src``, natural name order, hidden files skipped)
share one header. They are read with Python's :mod:`csv` module, so quoted commas, quoted
newlines, a UTF-8 byte order mark and CRLF line ends all work. The job writes four files
into the ``dest`` folder (:data:`OUTPUTS`):

* ``combined.csv``      - the header once, then every good row of every file, in file order;
* ``final_report.csv``  - the aggregate: one row per value of the ``group_by`` column with
  its ``count`` (and ``total_<sum_column>``), then no total row (the HTML has it);
* ``final_report.html`` - the aggregate as an HTML table, with a total row;
* ``final_chart.html``  - a chart page: inline SVG bar charts, no JavaScript.

Bad input follows the collection's rule: every problem is an ``errors`` entry naming the
file and line (and the field); the good rows are still aggregated and written; the task
then fails listing the problems (with ``skip_invalid`` it succeeds, warns and returns them
in ``left_out``). A file with another header, or bytes that are not UTF-8, is left out as a
whole; a row with the wrong number of fields, or a bad number in the sum column, is left out
alone. No good row at all (an empty folder, only bad files) writes nothing.

The output is a pure function of the input bytes and the options (no clock, sorted groups,
fixed number formats), so a re-run compares equal bytes and writes nothing; a changed file
is replaced atomically.
"""

from __future__ import annotations

import codecs
import csv
import decimal
import hashlib
import html
import io
import os
import re
import unicodedata

from ansible_collections.storeops.shop.plugins.module_utils._job import error_entry
from ansible_collections.storeops.shop.plugins.module_utils._report_data import ReportError
from ansible_collections.storeops.shop.plugins.module_utils._textfiles import ParseError, list_text_files, natural_key

SUFFIX = '.csv'
COMBINED = 'combined.csv'
AGGREGATE_CSV = 'final_report.csv'
AGGREGATE_HTML = 'final_report.html'
CHART_HTML = 'final_chart.html'
OUTPUTS = (COMBINED, AGGREGATE_CSV, AGGREGATE_HTML, CHART_HTML)
COUNT = 'count'
DEFAULT_TITLE = 'Report by {group_by}'
# diff mode shows the text of an output up to this size, else its checksum and size
DIFF_TEXT_LIMIT = 64 * 1024

_NEWLINE_BYTES = re.compile(rb'\r\n|\r|\n')
_NUMBER = re.compile(r'^[-+]?\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[-+]?\$?\.\d+$')


# --- reading -------------------------------------------------------------------------------


def decode(data, path):
    """UTF-8 text of ``data`` with a leading BOM dropped; other bytes raise :class:`ParseError` with the line."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode('utf-8')
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line_start = max(data.rfind(b'\n', 0, offset), data.rfind(b'\r', 0, offset)) + 1
        line = len(_NEWLINE_BYTES.findall(data, 0, offset)) + 1
        raise ParseError(
            path,
            line,
            'is not UTF-8 text: byte 0x%02x at byte offset %d (column %d of the line) cannot be '
            'decoded; the file was left out (save it as UTF-8)' % (data[offset], offset, offset - line_start + 1),
        )


class DailyFile(object):
    """One daily CSV: its header (and the line of it), its records ``(line, row)`` and its problems."""

    def __init__(self, path):
        self.path = path
        self.header = None
        self.header_line = None
        self.records = []
        self.errors = []


def read_daily(path):
    """Read one daily CSV into a :class:`DailyFile`; problems become its ``errors``, never exceptions.

    Blank lines are skipped. ``line`` is the physical line a record starts on (a quoted
    newline makes a record span lines).
    """
    daily = DailyFile(path)
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        daily.errors.append(error_entry('cannot be read: %s' % (exc.strerror or exc), file=path))
        return daily
    try:
        text = decode(data, path)
    except ParseError as exc:
        daily.errors.append(exc.to_entry())
        return daily
    reader = csv.reader(io.StringIO(text, newline=''), strict=True)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # strict mode: a quote where none may be, or a quoted value never closed (then the file ends here)
            daily.errors.append(
                error_entry(
                    'is not valid CSV (%s; a quote inside a value must be doubled and the '
                    'value quoted); the row was left out' % exc,
                    file=path,
                    line=line,
                )
            )
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not row:
            continue
        if daily.header is None:
            daily.header, daily.header_line = row, start
        else:
            daily.records.append((start, row))
    if daily.header is None and not daily.errors:
        daily.errors.append(error_entry('is empty: there is no header line; the file was left out', file=path, line=1))
    return daily


def list_daily_files(src):
    """The ``*.csv`` files directly in ``src``, natural name order (``2.csv`` before ``10.csv``)."""
    if not os.path.isdir(src):
        raise ReportError(
            'src %s is not a folder of daily CSV files' % src
            if os.path.exists(src)
            else 'src folder %s does not exist' % src
        )
    try:
        paths = list_text_files(src, SUFFIX)
    except ParseError as exc:
        raise ReportError('cannot read src', [exc.to_entry()])
    paths = sorted(paths, key=lambda path: (natural_key(os.path.basename(path)), os.path.basename(path)))
    if not paths:
        raise ReportError('src folder %s has no daily CSV files (*.csv); refusing to build an empty report' % src)
    return paths


def _quote_list(cells):
    return ', '.join(repr(cell) for cell in cells)


def reference_header(dailies):
    """The header most files share (ties: the first file's); files with another header are reported."""
    counts = {}
    for daily in dailies:
        if daily.header is not None:
            key = tuple(daily.header)
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    for daily in dailies:
        if daily.header is not None and counts[tuple(daily.header)] == best:
            return list(daily.header)
    return None  # not reached


def find_column(header, name, option):
    """Index of the column ``name`` (exact, else the one case-insensitive match)."""
    if name in header:
        if header.count(name) > 1:
            raise ReportError(
                '%s %r names %d columns of the header; the columns must have distinct names'
                % (option, name, header.count(name))
            )
        return header.index(name)
    folded = [index for index, column in enumerate(header) if column.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise ReportError(
        '%s %r is not a column of the daily CSV files; the columns are: %s' % (option, name, _quote_list(header))
    )


def parse_amount(text):
    """``'12.50'``, ``'-3'``, ``'$1,234.56'`` -> exact :class:`decimal.Decimal`; None when not a number."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return decimal.Decimal(text.replace('$', '').replace(',', ''))


def format_amount(value, grouping=False):
    """A :class:`decimal.Decimal` in plain notation (``1234.50``; ``1,234.50`` with ``grouping``)."""
    return format(value, ',f' if grouping else 'f')


def combine(paths, group_by, sum_column):
    """Read every daily file; return ``(header, group_index, sum_index, rows, errors, used)``.

    ``rows`` are the good rows in file order, each as ``(row, amount)``; ``used`` the files
    that gave the header (whether or not they had rows).
    """
    dailies = [read_daily(path) for path in paths]
    errors = []
    header = reference_header(dailies)
    if header is None:
        for daily in dailies:
            errors.extend(daily.errors)
        raise ReportError(
            'none of the %d daily CSV files in %s could be read; no report was written'
            % (len(paths), os.path.dirname(paths[0])),
            errors,
        )
    group_index = find_column(header, group_by, 'group_by')
    sum_index = find_column(header, sum_column, 'sum_column') if sum_column else None
    reference = next(daily for daily in dailies if daily.header == header)
    rows = []
    used = []
    for daily in dailies:
        errors.extend(daily.errors)
        if daily.header is None:
            continue
        if daily.header != header:
            errors.append(
                error_entry(
                    'the header differs from the other files (%s): it is [%s], expected [%s]; the file was left out'
                    % (os.path.basename(reference.path), _quote_list(daily.header), _quote_list(header)),
                    file=daily.path,
                    line=daily.header_line,
                )
            )
            continue
        used.append(daily.path)
        for line, row in daily.records:
            if len(row) != len(header):
                errors.append(
                    error_entry(
                        'the row has %d field%s but the header has %d (a comma or a newline inside a value must be '
                        'quoted); the row was left out' % (len(row), '' if len(row) == 1 else 's', len(header)),
                        file=daily.path,
                        line=line,
                    )
                )
                continue
            amount = None
            if sum_index is not None:
                amount = parse_amount(row[sum_index])
                if amount is None:
                    errors.append(
                        error_entry(
                            '%r is not a number (write it like 1234.50); the row was left out' % row[sum_index],
                            file=daily.path,
                            line=line,
                            field=header[sum_index],
                        )
                    )
                    continue
            rows.append((row, amount))
    return header, group_index, sum_index, rows, errors, used


# --- aggregating ---------------------------------------------------------------------------


def aggregate(rows, group_index, sum_index, sort_by='group', sort_order=None):
    """``[{'value', 'count', 'sum'}]`` per group (``sum`` a Decimal or None), in a deterministic order.

    ``sort_by``: ``group`` (the value, case-insensitive, ascending by default), ``count`` or
    ``sum`` (descending by default); ties are broken by the value, ascending.
    """
    groups = {}
    for row, amount in rows:
        value = row[group_index].strip()
        entry = groups.get(value)
        if entry is None:
            entry = groups[value] = {
                'value': value,
                'count': 0,
                'sum': None if sum_index is None else decimal.Decimal(0),
            }
        entry['count'] += 1
        if amount is not None:
            entry['sum'] += amount
    by_value = sorted(groups.values(), key=lambda entry: (entry['value'].casefold(), entry['value']))
    if sort_by == 'group':
        return by_value[::-1] if sort_order == 'desc' else by_value
    # a stable sort (also reversed): equal counts or sums keep the value order
    return sorted(by_value, key=lambda entry: entry[sort_by], reverse=sort_order != 'asc')


def sum_header(sum_column):
    return 'total_%s' % sum_column


# --- rendering -----------------------------------------------------------------------------


def _csv_bytes(rows):
    buffer = io.StringIO(newline='')
    writer = csv.writer(buffer, lineterminator='\r\n')
    writer.writerows(rows)
    return buffer.getvalue().encode('utf-8')


def render_combined(header, rows):
    """The month's rows under the one header, RFC 4180 (CRLF, quotes only where needed), UTF-8 without BOM."""
    return _csv_bytes([header] + [row for row, _amount in rows])


def render_aggregate_csv(group_column, groups, sum_column):
    head = [group_column, COUNT] + ([sum_header(sum_column)] if sum_column else [])
    body = [
        [entry['value'], str(entry['count'])] + ([format_amount(entry['sum'])] if sum_column else [])
        for entry in groups
    ]
    return _csv_bytes([head] + body)


def esc(text):
    return html.escape(text, quote=True)


STYLE = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:2rem auto;\
max-width:60rem;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.3rem .8rem;text-align:left}
thead th{border-bottom:2px solid #888}tfoot th,tfoot td{border-top:2px solid #888;font-weight:bold}
.num{text-align:right;font-variant-numeric:tabular-nums}.meta,nav{color:#555;font-size:.9rem}
figure{margin:1.5rem 0}figcaption{font-weight:bold;font-size:1.1rem;margin-bottom:.5rem}
svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#222}svg .bar{fill:#3b6ea8}"""


def _page(title, text, body):
    parts = [
        '<!DOCTYPE html>',
        '<html lang="en">',
        '<head>',
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>%s</title>' % esc(title),
        '<style>',
        STYLE,
        '</style>',
        '</head>',
        '<body>',
        '<h1>%s</h1>' % esc(title),
    ]
    for paragraph in re.split(r'\n\s*\n', (text or '').strip()):
        if paragraph.strip():
            parts.append('<p>%s</p>' % '<br>\n'.join(esc(line) for line in paragraph.strip().splitlines()))
    parts.extend(body)
    parts.extend(['</body>', '</html>', ''])
    return '\n'.join(parts).encode('utf-8')


def _source_line(summary):
    files = summary['inputs']
    span = esc(files[0]) if len(files) == 1 else '%s to %s' % (esc(files[0]), esc(files[-1]))
    line = '<p class="meta">%d rows from %d daily file%s (%s), %d group%s.' % (
        summary['rows'],
        len(files),
        '' if len(files) == 1 else 's',
        span,
        summary['group_count'],
        '' if summary['group_count'] == 1 else 's',
    )
    if summary['problems']:
        line += ' %d problem%s in the daily files: the rows and files at fault are not counted.' % (
            summary['problems'],
            '' if summary['problems'] == 1 else 's',
        )
    return line + '</p>'


def _nav(current):
    links = [
        (AGGREGATE_HTML, 'Table'),
        (CHART_HTML, 'Chart'),
        (AGGREGATE_CSV, 'Table as CSV'),
        (COMBINED, 'All rows as CSV'),
    ]
    items = [
        ('<strong>%s</strong>' % esc(label)) if name == current else '<a href="%s">%s</a>' % (esc(name), esc(label))
        for name, label in links
    ]
    return '<nav>%s</nav>' % ' · '.join(items)


def render_table_html(title, text, group_column, groups, sum_column, summary):
    """The aggregate as a small clean HTML page with a total row."""
    head = ['<th scope="col">%s</th>' % esc(group_column), '<th scope="col" class="num">%s</th>' % COUNT]
    if sum_column:
        head.append('<th scope="col" class="num">%s</th>' % esc(sum_header(sum_column)))
    body = ['<table>', '<thead>', '<tr>%s</tr>' % ''.join(head), '</thead>', '<tbody>']
    for entry in groups:
        cells = ['<td>%s</td>' % esc(entry['value']), '<td class="num">%d</td>' % entry['count']]
        if sum_column:
            cells.append('<td class="num">%s</td>' % esc(format_amount(entry['sum'], grouping=True)))
        body.append('<tr>%s</tr>' % ''.join(cells))
    total = ['<th scope="row">Total</th>', '<td class="num">%d</td>' % summary['rows']]
    if sum_column:
        total.append('<td class="num">%s</td>' % esc(format_amount(summary['sum'], grouping=True)))
    body.extend(['</tbody>', '<tfoot>', '<tr>%s</tr>' % ''.join(total), '</tfoot>', '</table>'])
    return _page(title, text, [_nav(AGGREGATE_HTML), _source_line(summary)] + body)


def text_width(text, size=12):
    """Estimated width in pixels of ``text`` at ``size`` px (wide East Asian characters count double)."""
    units = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        units += 1.0 if unicodedata.east_asian_width(char) in ('W', 'F') else 0.58
    return units * size


def _fit(text, width):
    """``text`` cut (with an ellipsis) to about ``width`` px."""
    if text_width(text) <= width:
        return text
    while text and text_width(text + '\u2026') > width:
        text = text[:-1]
    return text + '\u2026'


LABEL_MAX = 220
BAR_WIDTH = 460
ROW = 24


def bar_chart_svg(caption, entries):
    """An inline SVG horizontal bar chart of ``(label, number, shown)``; negative numbers draw no bar."""
    labels = [label if label else '(empty)' for label, _number, _shown in entries]
    label_width = min(LABEL_MAX, max([text_width(label) for label in labels] + [40])) + 12
    value_width = max([text_width(shown) for _label, _number, shown in entries] + [20]) + 12
    top = max([number for _label, number, _shown in entries if number > 0] or [0])
    width = int(label_width + BAR_WIDTH + value_width + 0.999)
    height = ROW * len(entries) + 8
    parts = [
        '<figure>',
        '<figcaption>%s</figcaption>' % esc(caption),
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" '
        'aria-label="%s">' % (width, height, width, height, esc(caption)),
    ]
    for index, (label, (_raw, number, shown)) in enumerate(zip(labels, entries)):
        y = 4 + index * ROW
        length = (float(number) / float(top) * BAR_WIDTH) if top and number > 0 else 0.0
        parts.append('<g><title>%s: %s</title>' % (esc(label), esc(shown)))
        parts.append(
            '<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>'
            % (label_width - 6, y + ROW / 2.0, esc(_fit(label, LABEL_MAX)))
        )
        parts.append(
            '<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>' % (label_width, y + 3, length, ROW - 6)
        )
        parts.append(
            '<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text></g>'
            % (label_width + length + 6, y + ROW / 2.0, esc(shown))
        )
    parts.extend(['</svg>', '</figure>'])
    return parts


def render_chart_html(title, text, group_column, groups, sum_column, summary):
    """The chart page: a bar chart of the counts (and one of the sums), inline SVG, no JavaScript."""
    body = [_nav(CHART_HTML), _source_line(summary)]
    body.extend(
        bar_chart_svg(
            'Number of rows per %s' % group_column,
            [(entry['value'], entry['count'], str(entry['count'])) for entry in groups],
        )
    )
    if sum_column:
        body.extend(
            bar_chart_svg(
                'Sum of %s per %s' % (sum_column, group_column),
                [(entry['value'], entry['sum'], format_amount(entry['sum'], grouping=True)) for entry in groups],
            )
        )
    return _page(title, text, body)


# --- the job -------------------------------------------------------------------------------


def _state(path):
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError:
        return None
    return data


def _diff_side(data):
    if data is not None and len(data) <= DIFF_TEXT_LIMIT:
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            pass
    if data is None:
        return {'exists': False, 'sha256': None, 'size': None}
    return {'exists': True, 'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data)}


def check_dest(src, dest):
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ReportError(
            'dest %s is not a folder; for kind=csv_aggregate dest is the folder the report files go to' % dest
        )
    if os.path.realpath(dest) == os.path.realpath(src):
        raise ReportError(
            'dest must not be the src folder %s: the report files would be read as daily files on the next run' % src
        )


def resolve_sort(sort_by, header, group_index, sum_index):
    """``sort_by`` option -> ``group``, ``count`` or ``sum``."""
    if not sort_by:
        return 'group'
    wanted = sort_by.casefold()
    if wanted == COUNT:
        return 'count'
    if wanted == header[group_index].casefold():
        return 'group'
    if sum_index is not None and wanted in (
        'sum',
        header[sum_index].casefold(),
        sum_header(header[sum_index]).casefold(),
    ):
        return 'sum'
    raise ReportError(
        'sort_by %r: for kind=csv_aggregate sort by the group_by column (%r, the default), %r%s'
        % (
            sort_by,
            header[group_index],
            COUNT,
            ' or the sum (%r)' % sum_header(header[sum_index]) if sum_index is not None else '',
        )
    )


def csv_aggregate(options, title, writer, check_mode=False, diff=False):
    """Build and write the monthly report; return ``(result, warnings)`` (the job contract of ``_job``).

    ``title`` is the finished title (``{group_by}`` is replaced here); ``writer(path, data)``
    replaces a file atomically.
    """
    src = os.path.expanduser(os.path.expandvars(options['src']))
    dest = options['dest']
    group_by = options.get('group_by')
    sum_column = options.get('sum_column') or None
    if not group_by:
        raise ReportError('kind=csv_aggregate needs group_by: the column to group the rows by')
    check_dest(src, dest)
    paths = list_daily_files(src)
    header, group_index, sum_index, rows, errors, used = combine(paths, group_by, sum_column)
    if not rows:
        raise ReportError(
            'no good data rows in the %d daily CSV files in %s; no report was written' % (len(paths), src), errors
        )
    sort_key = resolve_sort(options.get('sort_by'), header, group_index, sum_index)
    groups = aggregate(rows, group_index, sum_index, sort_key, options.get('sort_order'))
    group_column = header[group_index]
    sum_name = header[sum_index] if sum_index is not None else None
    title = (title or DEFAULT_TITLE).replace('{group_by}', group_column)
    summary = {
        'rows': len(rows),
        'inputs': [os.path.basename(path) for path in used],
        'group_count': len(groups),
        'problems': len(errors),
        'sum': sum((amount for _row, amount in rows), decimal.Decimal(0)) if sum_name else None,
    }
    text = options.get('text')
    outputs = [
        (COMBINED, render_combined(header, rows)),
        (AGGREGATE_CSV, render_aggregate_csv(group_column, groups, sum_name)),
        (AGGREGATE_HTML, render_table_html(title, text, group_column, groups, sum_name, summary)),
        (CHART_HTML, render_chart_html(title, text, group_column, groups, sum_name, summary)),
    ]
    created = not os.path.isdir(dest)
    if created and not check_mode:
        try:
            os.makedirs(dest)
        except OSError as exc:
            raise ReportError('cannot create dest folder %s: %s' % (dest, exc.strerror or exc))
    files = []
    diffs = []
    for name, data in outputs:
        path = os.path.join(dest, name)
        before = None if created else _state(path)
        changed = before != data
        if changed and not check_mode:
            try:
                writer(path, data)
            except OSError as exc:
                raise ReportError(
                    'cannot write %s: %s' % (path, exc.strerror or exc),
                    dest=dest,
                    changed=created or any(entry['changed'] for entry in files),
                )
        files.append(
            {
                'name': name,
                'path': path,
                'size': len(data),
                'sha256': hashlib.sha256(data).hexdigest(),
                'changed': changed,
            }
        )
        if diff and changed:
            diffs.append(
                {'before_header': path, 'after_header': path, 'before': _diff_side(before), 'after': _diff_side(data)}
            )
    warnings = []
    result = {
        'changed': created or any(entry['changed'] for entry in files),
        'dest': dest,
        'title': title,
        'columns': header,
        'group_by': group_column,
        'sum_column': sum_name,
        'rows': len(rows),
        'inputs': used,
        'groups': [
            dict(
                {'value': entry['value'], 'count': entry['count']},
                **({'sum': format_amount(entry['sum'])} if sum_name else {}),
            )
            for entry in groups
        ],
        'total': dict({'count': len(rows)}, **({'sum': format_amount(summary['sum'])} if sum_name else {})),
        'files': files,
        'left_out': [],
        'errors': [],
    }
    if diff:
        result['diff'] = diffs
    if errors and options.get('skip_invalid'):
        result['left_out'] = errors
        warnings.append(
            'skip_invalid: %d problem%s in the daily CSV files left out of the report (see left_out): %s'
            % (
                len(errors),
                '' if len(errors) == 1 else 's',
                ', '.join(sorted(set(os.path.basename(entry['file'] or '') for entry in errors))),
            )
        )
    elif errors:
        result['errors'] = errors
        result['msg'] = (
            '%d problem%s in the daily CSV files in %s; the report was written from the %d good rows '
            'without them' % (len(errors), '' if len(errors) == 1 else 's', src, len(rows))
        )
    return result, warnings
