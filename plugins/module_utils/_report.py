# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PDF reports for ``storeops.shop.build_report``, built with reportlab platypus and charts.

Three kinds (see the module documentation): ``processed_update`` (course Module 4),
``sales_summary`` (course Module 3) and ``table`` (any rows).

Every report is built in memory in reportlab's *invariant* mode (fixed timestamps and
document id), so the same input and options give byte-identical PDFs; the module compares
those bytes with ``dest`` and only writes (atomically) when they differ.

Speed: tables get explicit column widths and row heights computed here (cells are wrapped
with ``simpleSplit``), so reportlab never measures 10,000 rows itself; a 10,000-car summary
builds in about two seconds (``bench/bench_build_report.py``).
"""

from __future__ import annotations

import bisect
import csv
import datetime
import hashlib
import io
import json
import math
import os
import re
import traceback
from xml.sax.saxutils import escape

from ansible_collections.storeops.shop.plugins.module_utils import _descriptions, _fs, _sales

try:
    from reportlab import rl_config
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
except ImportError:
    HAS_REPORTLAB = False
    REPORTLAB_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REPORTLAB = True
    REPORTLAB_IMPORT_ERROR = None

KINDS = ('processed_update', 'sales_summary', 'table')
DEFAULT_TITLES = {
    'processed_update': 'Processed Update on {date}',
    'sales_summary': 'Sales summary for last month',
    'table': 'Report',
}
MONTHS = ('January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
          'September', 'October', 'November', 'December')
MARGIN = 54  # points (3/4 inch)
FONT = 'Helvetica'
FONT_BOLD = 'Helvetica-Bold'
CELL_FONT_SIZE = 9
CELL_LEADING = 11
CELL_PAD_X = 4
CELL_PAD_TOP = 2
CELL_PAD_BOTTOM = 3
MAX_CELL_LINES = 30
MIN_COLUMN_WIDTH = 36
# Tableau 10: distinct, print-friendly; "Other" is always grey
PALETTE = ('#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
           '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#499894')
OTHER_COLOUR = '#bab0ac'
HEADER_BACKGROUND = '#2f3e4e'
STRIPE = '#eef1f4'
_NUMBER = re.compile(r'^[-+]?\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[-+]?\$?\s*\.\d+$')


class ReportError(Exception):
    """The report cannot be built; ``details`` goes into the module's failure result."""

    def __init__(self, message, **details):
        super(ReportError, self).__init__(message)
        self.details = details


class Report(object):
    """A built report: the PDF bytes, its page count and the data to return to the user."""

    def __init__(self, data, pages, result):
        self.data = data
        self.pages = pages
        self.result = result


# --- dates ---------------------------------------------------------------------------------

def parse_report_date(value, today=None):
    """``None`` -> today; ``'2026-11-23'`` (or a date) -> ``datetime.date``."""
    if value is None or value == '':
        return today or datetime.date.today()
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    match = re.match(r'^\s*(\d{4})-(\d{2})-(\d{2})\s*$', str(value))
    if not match:
        raise ReportError('date %r is not a date in YYYY-MM-DD form (e.g. 2026-11-23)' % (value,))
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ReportError('date %r is not a real date (%s)' % (value, exc))


def format_long_date(day):
    """``date(2026, 11, 23)`` -> ``'November 23, 2026'``, the same in every locale."""
    return '%s %d, %d' % (MONTHS[day.month - 1], day.day, day.year)


def make_title(kind, title, day):
    """The report title: ``title`` or the kind's default, with ``{date}`` replaced."""
    template = DEFAULT_TITLES[kind] if title is None else title
    return template.replace('{date}', format_long_date(day))


# --- layout helpers ------------------------------------------------------------------------

def _styles():
    styles = getSampleStyleSheet()
    return {'title': styles['h1'], 'h2': styles['h2'], 'body': styles['BodyText']}


def _markup(text):
    """Plain text -> Paragraph markup (escaped; newlines become line breaks)."""
    return escape(text).replace('\n', '<br/>')


def _text_flowables(text, styles):
    """Free text (``text`` option): blank lines separate paragraphs."""
    if not text:
        return []
    blocks = [block.strip('\n') for block in re.split(r'\n\s*\n', text.strip())]
    return [Paragraph(_markup(block), styles['body']) for block in blocks if block.strip()]


def _page_size(name):
    return {'a4': A4, 'letter': letter}[name.lower()]


def render(story, title, page_size='A4', subject=None):
    """Build ``story`` into PDF bytes; returns ``(data, pages)``. Same story -> same bytes."""
    buffer = io.BytesIO()
    pages = [0]

    def footer(canvas, doc):
        number = canvas.getPageNumber()
        pages[0] = max(pages[0], number)
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        width = doc.pagesize[0]
        canvas.drawRightString(width - MARGIN, MARGIN / 2, 'Page %d' % number)
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer, pagesize=_page_size(page_size),
        leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=title, author='storeops.shop', subject=subject or title,
        creator='storeops.shop.build_report', invariant=1,
    )
    # binary (Flate only) streams: smaller, and pure-Python ASCII85 encoding is slow
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    finally:
        rl_config.useA85 = saved
    return buffer.getvalue(), pages[0]


def frame_width(page_size='A4'):
    return _page_size(page_size)[0] - 2 * MARGIN


def _wrap(text, font, size, width):
    """Split ``text`` into lines no wider than ``width`` (long words are cut)."""
    if '\n' not in text and stringWidth(text, font, size) <= width:
        return [text]
    lines = []
    for line in simpleSplit(text, font, size, width) or ['']:
        while stringWidth(line, font, size) > width and len(line) > 1:
            low, high = 1, len(line) - 1
            while low < high:  # longest prefix that fits
                middle = (low + high + 1) // 2
                if stringWidth(line[:middle], font, size) <= width:
                    low = middle
                else:
                    high = middle - 1
            lines.append(line[:low])
            line = line[low:]
        lines.append(line)
    if len(lines) > MAX_CELL_LINES:
        lines = lines[:MAX_CELL_LINES]
        lines[-1] = lines[-1][:-1] + '\u2026'
    return lines


def column_widths(natural, available, minimum=MIN_COLUMN_WIDTH):
    """Fit columns of ``natural`` widths into ``available`` points.

    If they fit, they keep their natural widths. Otherwise narrow columns keep theirs and the
    wide ones share the rest equally (their text is then wrapped).
    """
    if sum(natural) <= available:
        return list(natural)
    widths = [None] * len(natural)
    remaining = float(available)
    open_columns = list(range(len(natural)))
    while open_columns:
        share = remaining / len(open_columns)
        narrow = [i for i in open_columns if natural[i] <= share]
        if not narrow:
            break
        for i in narrow:
            widths[i] = natural[i]
            remaining -= natural[i]
            open_columns.remove(i)
    for i in open_columns:
        widths[i] = max(remaining / len(open_columns), minimum)
    return widths


def as_number(text):
    """``'1,234'``/``'$13724.05'``/``'-3.5'`` -> float, or None if ``text`` is not a number."""
    text = text.strip()
    if not text or not _NUMBER.match(text):
        return None
    return float(text.replace('$', '').replace(',', '').replace(' ', ''))


def numeric_columns(rows, ncols):
    """Indexes of the columns whose non-empty cells are all numbers (aligned right)."""
    result = []
    for col in range(ncols):
        values = [row[col] for row in rows if row[col].strip()]
        if values and all(as_number(value) is not None for value in values):
            result.append(col)
    return result


def build_table(header, rows, available, numeric=None):
    """A platypus Table as wide as ``available`` points, header repeated on every page.

    ``header`` and ``rows`` hold text. Column widths and row heights are computed here (one
    ``stringWidth`` per cell) and given to reportlab, which keeps 10,000-row tables fast.
    Text columns take the spare width; too-wide text is wrapped.
    """
    ncols = len(header)
    if numeric is None:
        numeric = numeric_columns(rows, ncols)
    pad = 2 * CELL_PAD_X
    natural = [stringWidth(cell, FONT_BOLD, CELL_FONT_SIZE) + pad for cell in header]
    for row in rows:
        for col, cell in enumerate(row):
            if '\n' in cell:
                width = max(stringWidth(part, FONT, CELL_FONT_SIZE) for part in cell.split('\n')) + pad
            else:
                width = stringWidth(cell, FONT, CELL_FONT_SIZE) + pad
            if width > natural[col]:
                natural[col] = width
    widths = column_widths(natural, available)
    spare = available - sum(widths)
    if spare > 0:
        growing = [col for col in range(ncols) if col not in numeric] or list(range(ncols))
        for col in growing:
            widths[col] += spare / len(growing)
    data = []
    heights = []
    for index, row in enumerate([header] + rows):
        font = FONT_BOLD if index == 0 else FONT
        cells = []
        lines = 1
        for col, cell in enumerate(row):
            if natural[col] > widths[col] or '\n' in cell:
                wrapped = _wrap(cell, font, CELL_FONT_SIZE, widths[col] - pad)
                lines = max(lines, len(wrapped))
                cell = '\n'.join(wrapped)
            cells.append(cell)
        data.append(cells)
        heights.append(lines * CELL_LEADING + CELL_PAD_TOP + CELL_PAD_BOTTOM)
    style = [
        ('FONT', (0, 0), (-1, -1), FONT, CELL_FONT_SIZE, CELL_LEADING),
        ('FONT', (0, 0), (-1, 0), FONT_BOLD, CELL_FONT_SIZE, CELL_LEADING),
        ('TEXTCOLOR', (0, 0), (-1, 0), colors.white),
        ('BACKGROUND', (0, 0), (-1, 0), colors.HexColor(HEADER_BACKGROUND)),
        ('LINEBELOW', (0, 0), (-1, -1), 0.25, colors.HexColor('#c8ced6')),
        ('BOX', (0, 0), (-1, -1), 0.5, colors.HexColor('#8a96a3')),
        ('VALIGN', (0, 0), (-1, -1), 'TOP'),
        ('LEFTPADDING', (0, 0), (-1, -1), CELL_PAD_X),
        ('RIGHTPADDING', (0, 0), (-1, -1), CELL_PAD_X),
        ('TOPPADDING', (0, 0), (-1, -1), CELL_PAD_TOP),
        ('BOTTOMPADDING', (0, 0), (-1, -1), CELL_PAD_BOTTOM),
    ]
    for col in numeric:
        style.append(('ALIGN', (col, 0), (col, -1), 'RIGHT'))
    return PagedTable(data, widths, heights, style)


if HAS_REPORTLAB:
    class PagedTable(Flowable):
        """A long table, laid out one page at a time.

        Each page is a platypus ``Table`` (with the header row, ``repeatRows=1``) built from
        the rows that fit there; the rest stays in a new ``PagedTable`` that shares the same
        row list. Splitting a plain 10,000-row ``Table`` rebuilds the whole remainder on
        every page (quadratic); here the rows that fit are found by bisecting the running
        total of the known row heights, so the whole table costs linear time.
        """

        def __init__(self, data, widths, heights, style, start=1):
            Flowable.__init__(self)
            self.data = data          # row 0 is the header
            self.widths = widths
            self.heights = heights
            self.style = style
            self.start = start        # first body row still to lay out
            self.hAlign = 'LEFT'
            if start == 1:
                running = [0]
                for height in heights[1:]:
                    running.append(running[-1] + height)
                self.running = running    # running[i] = height of body rows 1..i
            self.width = sum(widths)
            self.height = 0

        def _rest(self, start):
            rest = PagedTable(self.data, self.widths, self.heights, self.style, start)
            rest.running = self.running
            return rest

        def _table(self, start, end):
            style = list(self.style)
            # keep the stripes continuous across pages
            stripes = [colors.white, colors.HexColor(STRIPE)]
            if (start - 1) % 2:
                stripes.reverse()
            style.append(('ROWBACKGROUNDS', (0, 1), (-1, -1), stripes))
            return Table([self.data[0]] + self.data[start:end], colWidths=self.widths,
                         rowHeights=[self.heights[0]] + self.heights[start:end],
                         style=TableStyle(style), repeatRows=1, hAlign='LEFT')

        def wrap(self, availWidth, availHeight):
            self.height = self.heights[0] + self.running[-1] - self.running[self.start - 1]
            return self.width, self.height

        def split(self, availWidth, availHeight):
            room = availHeight - self.heights[0]
            base = self.running[self.start - 1]
            # last body row whose bottom edge still fits
            end = bisect.bisect_right(self.running, base + room + 1e-6) - 1
            if end < self.start:
                return []         # not even one row fits: try the next page
            if end >= len(self.data) - 1:
                return [self._table(self.start, len(self.data))]
            return [self._table(self.start, end + 1), self._rest(end + 1)]

        def draw(self):
            table = self._table(self.start, len(self.data))
            table.wrapOn(self.canv, self.width, self.height)
            table.drawOn(self.canv, 0, 0)


def _shorten(text, font, size, width):
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + '\u2026', font, size) > width:
        text = text[:-1]
    return text.rstrip() + '\u2026'


def _chart_title(drawing, text, height):
    drawing.add(String(0, height - 14, text, fontName=FONT_BOLD, fontSize=11))


def pie_chart(slices, width):
    """Pie of ``[(label, value), ...]`` with a legend (name, value, share) beside it."""
    height = 200
    drawing = Drawing(width, height)
    _chart_title(drawing, 'Total sales by make', height)
    total = float(sum(value for _label, value in slices))
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 10, 10, 160, 160
    pie.data = [value for _label, value in slices]
    pie.labels = None
    pie.startAngle = 90
    pie.direction = 'clockwise'
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 0.75
    pairs = []
    for index, (label, value) in enumerate(slices):
        colour = colors.HexColor(OTHER_COLOUR if label == 'Other' and index == len(slices) - 1
                                 else PALETTE[index % len(PALETTE)])
        pie.slices[index].fillColor = colour
        pairs.append((colour, (_shorten(label, FONT, 9, 150), '{:,}'.format(value),
                               '%.1f%%' % (100.0 * value / total))))
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = 200, 168
    legend.alignment = 'right'
    legend.boxAnchor = 'nw'
    legend.fontName, legend.fontSize = FONT, 9
    legend.dx = legend.dy = 8
    legend.deltay = 14
    legend.columnMaximum = 10
    legend.dxTextSpace = 6
    legend.strokeColor = None
    legend.colorNamePairs = pairs
    legend.subCols[0].minWidth = 155
    legend.subCols[1].minWidth = 60
    legend.subCols[1].align = 'right'
    legend.subCols[2].minWidth = 45
    legend.subCols[2].align = 'right'
    drawing.add(legend)
    return drawing


def _money_axis(value):
    value = float(value)
    for limit, suffix in ((1e12, 'T'), (1e9, 'B'), (1e6, 'M'), (1e3, 'k')):
        if abs(value) >= limit:
            text = ('%.1f' % (value / limit)).rstrip('0').rstrip('.')
            return '$%s%s' % (text, suffix)
    return '$%d' % value


def nice_scale(maximum, ticks=5):
    """``(top, step)`` for a value axis from 0 that shows ``maximum`` with round tick values."""
    maximum = float(maximum)
    if maximum <= 0:
        return 1.0, 1.0
    rough = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    return math.ceil(maximum / step - 1e-9) * step, step


def bar_chart(cars, width):
    """Vertical bars of revenue for ``cars`` (already the top 10), names rotated under the bars."""
    height = 270
    bottom = 92  # room for the rotated names
    drawing = Drawing(width, height)
    _chart_title(drawing, 'Top %d cars by revenue' % len(cars) if len(cars) > 1 else 'Top car by revenue', height)
    chart = VerticalBarChart()
    chart.x, chart.y = 58, bottom
    # at most 45 pt per bar, so one or two cars do not make huge slabs
    chart.width, chart.height = min(width - 80, 45 * len(cars)), height - bottom - 30
    chart.data = [[float(car.revenue) for car in cars]]
    chart.bars[0].fillColor = colors.HexColor(PALETTE[0])
    chart.bars[0].strokeColor = None
    chart.barSpacing = 2
    chart.groupSpacing = 8
    top, step = nice_scale(max(chart.data[0]) * 1.05)   # some headroom above the tallest bar
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = _money_axis
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor('#dde2e8')
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.categoryNames = [_shorten(car.label, FONT, 7.5, 115) for car in cars]
    labels = chart.categoryAxis.labels
    labels.fontName = FONT
    labels.fontSize = 7.5
    labels.angle = 40
    labels.boxAnchor = 'ne'
    labels.dx = 4
    labels.dy = -4
    drawing.add(chart)
    return drawing


# --- loading input -------------------------------------------------------------------------

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
        raise ReportError('%s is not UTF-8 text: byte 0x%02x at byte offset %d cannot be decoded'
                          % (source, data[exc.start], exc.start))


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


def _kind_of(value):
    return 'an object' if isinstance(value, dict) else 'a list' if isinstance(value, list) else 'a %s' % type(value).__name__


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
        raise ReportError('%s: expected a list of rows, got %s' % (source, _kind_of(data)))
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
            raise ReportError('%s: rows must all be lists or all be objects; the row at index %d is %s'
                              % (source, index, _kind_of(row)))
    if columns is None:
        header, body, first = [_cell(cell) for cell in data[0]], data[1:], 1
    else:
        header, body, first = columns, data, 0
    if not body:
        raise ReportError('%s: there is a header but no rows; refusing to build an empty report' % source)
    rows = []
    for index, row in enumerate(body, first):
        if len(row) > len(header):
            raise ReportError('%s: the row at index %d has %d cells but the header has %d'
                              % (source, index, len(row), len(header)))
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


# --- the three kinds -----------------------------------------------------------------------

def _common_story(title, text, styles):
    story = [Paragraph(_markup(title), styles['title']), Spacer(1, 6)]
    story.extend(_text_flowables(text, styles))
    return story


def processed_update(src, day, title=None, text=None, page_size='A4', skip_invalid=False):
    """Report for the supplier: one ``name:`` / ``weight:`` block per product in ``src``."""
    if not isinstance(src, str):
        raise ReportError('src must be the path of the descriptions folder for kind=processed_update')
    try:
        products, errors = _descriptions.parse_descriptions(src)
    except _descriptions.ParseError as exc:
        raise ReportError('cannot read src: %s' % exc)
    if errors and not skip_invalid:
        raise ReportError('%d of %d description files in %s are invalid: %s'
                          % (len(errors), len(errors) + len(products), src, _descriptions.format_errors(errors)),
                          invalid_files=[error.to_dict() for error in errors])
    if not products:
        raise ReportError('no valid description files (*.txt) in %s; refusing to build an empty report' % src,
                          invalid_files=[error.to_dict() for error in errors])
    full_title = make_title('processed_update', title, day)
    styles = _styles()
    story = _common_story(full_title, text, styles)
    story.append(Spacer(1, 6))
    # the course layout: "name: ..." / "weight: ... lbs", then one blank line
    block_style = ParagraphStyle('product', parent=styles['body'], spaceBefore=0, spaceAfter=0)
    for product in products:
        block = 'name: %s\nweight: %d lbs' % (product['name'], product['weight'])
        story.append(Paragraph(_markup(block), block_style))
        story.append(Spacer(1, block_style.leading))
    data, pages = render(story, full_title, page_size)
    return Report(data, pages, {
        'title': full_title,
        'products': [{'name': p['name'], 'weight': p['weight'], 'file': p['file']} for p in products],
        'total_weight': sum(p['weight'] for p in products),
        'invalid_files': [error.to_dict() for error in errors],
    })


def sales_summary(src, day, title=None, text=None, page_size='A4', sort_by=None, sort_order=None):
    """The monthly car sales report: summary, pie by make, top-10 revenue bars, full table."""
    try:
        cars = _sales.load(src) if isinstance(src, str) else _sales.validate(src)
        ordered = _sales.sort_cars(cars, sort_by or 'total_sales', sort_order)
    except _sales.SalesDataError as exc:
        details = {'problems': exc.problems} if exc.problems else {}
        raise ReportError(str(exc), **details)
    except ValueError as exc:
        raise ReportError(str(exc))
    summary = _sales.summarize(cars)
    full_title = make_title('sales_summary', title, day)
    styles = _styles()
    width = frame_width(page_size)
    story = _common_story(full_title, text, styles)
    story.append(Paragraph('<br/>'.join(escape(line) for line in summary['lines']), styles['body']))
    story.append(Spacer(1, 12))
    slices = _sales.sales_by_make(cars)
    top = _sales.top_by_revenue(cars)
    if slices:
        story.append(pie_chart(slices, width))
        story.append(Spacer(1, 12))
    if top[0].revenue > 0:
        story.append(bar_chart(top, width))
        story.append(Spacer(1, 12))
    else:
        story.append(Paragraph('No cars were sold, so there are no charts.' if not slices
                               else 'There was no revenue, so there is no revenue chart.', styles['body']))
        story.append(Spacer(1, 6))
    story.append(build_table(_sales.TABLE_HEADER, _sales.table_rows(ordered), width, numeric=[0, 2, 3]))
    data, pages = render(story, full_title, page_size)
    result = {'title': full_title, 'summary': summary, 'rows': len(cars)}
    return Report(data, pages, result)


def table(src, day, title=None, text=None, page_size='A4', columns=None, sort_by=None, sort_order=None):
    """A generic titled table."""
    header, rows = load_rows(src, columns)
    if sort_by:
        rows = sort_rows(header, rows, sort_by, sort_order)
    full_title = make_title('table', title, day)
    styles = _styles()
    story = _common_story(full_title, text, styles)
    story.append(Spacer(1, 6))
    story.append(build_table(header, rows, frame_width(page_size)))
    data, pages = render(story, full_title, page_size)
    return Report(data, pages, {'title': full_title, 'rows': len(rows), 'columns': header})


def generate(params, today=None):
    """Build the report described by the module's ``params``; raises :class:`ReportError`."""
    kind = params['kind']
    if kind not in KINDS:
        raise ReportError('kind must be one of %s, got %r' % (', '.join(KINDS), kind))
    src = params['src']
    if isinstance(src, str):
        src = os.path.expanduser(os.path.expandvars(src))   # what type=path does
    elif not isinstance(src, list):
        raise ReportError('src must be a path or a list, got %s' % _kind_of(src))
    elif kind == 'processed_update':
        raise ReportError('src must be the path of the descriptions folder for kind=processed_update')
    unused = [name for name, kinds in (('columns', ('table',)), ('sort_by', ('table', 'sales_summary')),
                                       ('sort_order', ('table', 'sales_summary')),
                                       ('skip_invalid', ('processed_update',)))
              if params.get(name) and kind not in kinds]
    if unused:
        raise ReportError('%s cannot be used with kind=%s' % (', '.join(unused), kind))
    day = parse_report_date(params.get('date'), today)
    common = dict(title=params.get('title'), text=params.get('text'), page_size=params.get('page_size') or 'A4')
    if kind == 'processed_update':
        report = processed_update(src, day, skip_invalid=bool(params.get('skip_invalid')), **common)
    elif kind == 'sales_summary':
        report = sales_summary(src, day, sort_by=params.get('sort_by'), sort_order=params.get('sort_order'), **common)
    else:
        report = table(src, day, columns=params.get('columns'), sort_by=params.get('sort_by'),
                       sort_order=params.get('sort_order'), **common)
    report.result['date'] = day.isoformat()
    return report


# --- writing -------------------------------------------------------------------------------

def file_state(path):
    """``{'exists', 'sha256', 'size'}`` of ``path`` (for diff mode)."""
    try:
        size = os.path.getsize(path)
        checksum = _fs.file_sha256(path)
    except OSError:
        return {'exists': False, 'sha256': None, 'size': None}
    return {'exists': True, 'sha256': checksum, 'size': size}


def check_destination(dest):
    """Fail early (before building) on a ``dest`` that can never be written."""
    if os.path.isdir(dest):
        raise ReportError('dest %s is a directory; give the path of the PDF file' % dest)
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent):
        raise ReportError('the directory of dest does not exist: %s' % parent)


def write_pdf(dest, data):
    """Replace ``dest`` with ``data`` atomically, keeping an existing file's mode and owner."""
    try:
        stat = os.stat(dest)
    except OSError:
        stat = None
    if stat is None:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        mode = stat.st_mode & 0o7777
    with _fs.atomic_output(dest, mode=mode) as handle:
        handle.write(data)
    if stat is not None and hasattr(os, 'chown'):
        new = os.stat(dest)
        if (new.st_uid, new.st_gid) != (stat.st_uid, stat.st_gid):
            try:
                os.chown(dest, stat.st_uid, stat.st_gid)
            except OSError:
                pass  # not allowed (not root): the file now belongs to the user running the module


def run_module(module):
    """Everything ``build_report`` does after parsing its arguments."""
    params = module.params
    dest = params['dest']
    try:
        check_destination(dest)
        report = generate(params)
    except ReportError as exc:
        module.fail_json(msg=str(exc), dest=dest, **exc.details)
    before = file_state(dest)
    after = {'exists': True, 'sha256': hashlib.sha256(report.data).hexdigest(), 'size': len(report.data)}
    changed = before['sha256'] != after['sha256'] or not _fs.same_content(dest, report.data)
    if changed and not module.check_mode:
        try:
            write_pdf(dest, report.data)
        except OSError as exc:
            module.fail_json(msg='cannot write %s: %s' % (dest, exc.strerror or exc), dest=dest)
    diff = {'before_header': dest, 'after_header': dest, 'before': before, 'after': after}
    if os.path.exists(dest):
        file_args = module.load_file_common_arguments(params)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff)
    result = dict(report.result, changed=changed, dest=dest, kind=params['kind'], pages=report.pages,
                  size=after['size'], sha256=after['sha256'])
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)
