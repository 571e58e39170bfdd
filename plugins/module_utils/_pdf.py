# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PDF layout for the collection's reports, with reportlab platypus and reportlab charts.

Private to the collection: it can change at any time.

The parts a report is made of: :func:`render` (a story -> deterministic PDF bytes: reportlab's
*invariant* mode, fixed timestamps and document id), :func:`build_table` (long tables laid out
page by page in linear time, with explicit column widths and row heights computed here so
reportlab never measures 10,000 rows itself), :func:`pie_chart` and :func:`bar_chart`.
"""

from __future__ import annotations

import bisect
import io
import math
import re
import traceback
from xml.sax.saxutils import escape

from ansible_collections.storeops.shop.plugins.module_utils._report_data import as_number

try:
    from reportlab import rl_config
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle
except ImportError:
    HAS_REPORTLAB = False
    REPORTLAB_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REPORTLAB = True
    REPORTLAB_IMPORT_ERROR = None

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


def styles():
    styles = getSampleStyleSheet()
    return {'title': styles['h1'], 'h2': styles['h2'], 'body': styles['BodyText']}


def markup(text):
    """Plain text -> Paragraph markup (escaped; newlines become line breaks)."""
    return escape(text).replace('\n', '<br/>')


def text_flowables(text, styles):
    """Free text (``text`` option): blank lines separate paragraphs."""
    if not text:
        return []
    blocks = [block.strip('\n') for block in re.split(r'\n\s*\n', text.strip())]
    return [Paragraph(markup(block), styles['body']) for block in blocks if block.strip()]


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
