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
import os
import re
import traceback
from xml.sax.saxutils import escape

from ansible_collections.storeops.shop.plugins.module_utils._report_data import as_number

try:
    from reportlab import rl_config
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, Group, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfbase.ttfonts import TTFont, TTFError
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle
except ImportError:
    HAS_REPORTLAB = False
    REPORTLAB_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REPORTLAB = True
    REPORTLAB_IMPORT_ERROR = None

MARGIN = 54  # points (3/4 inch)
# Fonts, embedded (subset) in every PDF: DejaVu Sans covers Latin, Greek, Cyrillic and more;
# for CJK a font of the host is used when one is installed (the first found). Without DejaVu
# the PDF falls back on Helvetica (Western European text only) and the report says so.
FONT_FILES = {
    # Debian/Ubuntu (fonts-dejavu-core), then Fedora/RHEL (dejavu-sans-fonts)
    'StoreopsSans': (
        '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
        '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
        '/usr/share/fonts/dejavu/DejaVuSans.ttf',
    ),
    'StoreopsSans-Bold': (
        '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
        '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf',
        '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
    ),
    'StoreopsCJK': (
        '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
        '/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf',
        '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
        '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
        '/usr/share/fonts/truetype/arphic/uming.ttc',
    ),
}
FONT = 'StoreopsSans'
FONT_BOLD = 'StoreopsSans-Bold'
FONT_CJK = 'StoreopsCJK'
FONT_PACKAGES = 'fonts-dejavu-core (and fonts-droid-fallback for Chinese, Japanese and Korean)'
CELL_FONT_SIZE = 9
CELL_LEADING = 11
CELL_PAD_X = 4
CELL_PAD_TOP = 2
CELL_PAD_BOTTOM = 3
MAX_CELL_LINES = 30
MIN_COLUMN_WIDTH = 36
# Tableau 10: distinct, print-friendly; "Other" is always grey
PALETTE = ('#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#499894')
OTHER_COLOUR = '#bab0ac'
HEADER_BACKGROUND = '#2f3e4e'
STRIPE = '#eef1f4'


class _Fonts(object):
    """The fonts registered with reportlab, what each covers, and what no font could show."""

    def __init__(self):
        self.loaded = False
        self.cover = {}
        self.missing = set()  # characters no installed font has
        self.notes = []

    def load(self):
        if self.loaded:
            return
        self.loaded = True
        for name, paths in FONT_FILES.items():
            for path in paths:
                if not os.path.isfile(path):
                    continue
                try:
                    font = TTFont(name, path, subfontIndex=0)
                except (TTFError, OSError, ValueError):
                    continue
                pdfmetrics.registerFont(font)
                self.cover[name] = frozenset(font.face.charToGlyph)
                break
        global FONT, FONT_BOLD
        if FONT not in self.cover or FONT_BOLD not in self.cover:
            FONT, FONT_BOLD = 'Helvetica', 'Helvetica-Bold'
            self.cover[FONT] = self.cover[FONT_BOLD] = frozenset(ord(c) for c in _CP1252)
            self.notes.append(
                'DejaVu Sans is not installed, so the PDF uses Helvetica (Western European text only); '
                'install %s' % FONT_PACKAGES
            )

    def start(self):
        """A new report: forget what the last one could not show."""
        self.load()
        self.missing = set()

    def font_of(self, char, bold=False):
        """The font for one character: the main font, else the CJK font, else None (no font has it)."""
        code = ord(char)
        if code in self.cover[FONT_BOLD if bold else FONT] or char in '\n\t':
            return FONT_BOLD if bold else FONT
        if code in self.cover.get(FONT_CJK, ()):
            return FONT_CJK
        return None

    def for_text(self, text, bold=False):
        """The one font that shows all of ``text``: the main font, or the CJK font when only it does.

        None when ``text`` needs both (draw it in runs: :meth:`markup`, :meth:`width`, :func:`text_runs`).
        """
        main = FONT_BOLD if bold else FONT
        if text.isascii():
            return main
        self.load()
        fonts = set()
        for char in text:
            font = self.font_of(char, bold)
            if font is None:
                self.missing.add(char)
            else:
                fonts.add(font)
        if len(fonts) <= 1:
            return fonts.pop() if fonts else main
        return None

    def runs(self, text, bold=False):
        """``[(font, text), ...]``: ``text`` cut where the font changes."""
        self.load()
        main = FONT_BOLD if bold else FONT
        found = []
        for char in text:
            font = self.font_of(char, bold) or main
            if found and found[-1][0] == font:
                found[-1][1].append(char)
            else:
                found.append((font, [char]))
        return [(font, ''.join(chars)) for font, chars in found]

    def width(self, text, size, bold=False):
        """Width of ``text`` drawn in runs of the fonts that have its characters."""
        return sum(stringWidth(part, font, size) for font, part in self.runs(text, bold))

    def markup(self, text, bold=False):
        """Paragraph markup for ``text``: escaped, newlines as breaks, runs of CJK in the CJK font."""
        if text.isascii():
            return _run(text, None)
        for char in text:
            if self.font_of(char, bold) is None:
                self.missing.add(char)
        main = FONT_BOLD if bold else FONT
        return ''.join(_run(part, None if font == main else font) for font, part in self.runs(text, bold))

    def warnings(self):
        found = list(self.notes)
        if self.missing:
            shown = ''.join(sorted(self.missing))[:40]
            found.append(
                '%d character%s cannot be shown by any installed font and print as boxes: %s (install %s)'
                % (len(self.missing), '' if len(self.missing) == 1 else 's', shown, FONT_PACKAGES)
            )
        return found


_CP1252 = bytes(range(32, 256)).decode('cp1252', 'ignore')
FONTS = _Fonts()


def _run(text, font):
    text = escape(text).replace('\n', '<br/>')
    return '<font name="%s">%s</font>' % (font, text) if font else text


def styles():
    FONTS.load()
    sample = getSampleStyleSheet()
    found = {'title': sample['h1'], 'h2': sample['h2'], 'body': sample['BodyText']}
    found['title'].fontName = found['h2'].fontName = FONT_BOLD
    found['body'].fontName = FONT
    return found


def markup(text, bold=False):
    """Plain text -> Paragraph markup (escaped; newlines become line breaks; CJK in its font)."""
    return FONTS.markup(text, bold)


def text_flowables(text, styles):
    """Free text (``text`` option): blank lines separate paragraphs."""
    if not text:
        return []
    blocks = [block.strip('\n') for block in re.split(r'\n\s*\n', text.strip())]
    return [Paragraph(markup(block), styles['body']) for block in blocks if block.strip()]


def title_flowable(text, styles):
    return Paragraph(markup(text, bold=True), styles['title'])


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
        buffer,
        pagesize=_page_size(page_size),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author='storeops.shop',
        subject=subject or title,
        creator='storeops.shop.build_report',
        invariant=1,
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


def _measure(text, font, bold):
    return FONTS.width(text, CELL_FONT_SIZE, bold) if font is None else stringWidth(text, font, CELL_FONT_SIZE)


def _wrap_runs(text, bold, width):
    """:func:`_wrap` for text drawn in several fonts: greedy, at spaces, long words cut."""
    lines = []
    for paragraph in text.split('\n'):
        line = ''
        for word in paragraph.split(' '):
            candidate = word if not line else line + ' ' + word
            if FONTS.width(candidate, CELL_FONT_SIZE, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ''
            for char in word:  # a word (CJK has no spaces) longer than the column
                if line and FONTS.width(line + char, CELL_FONT_SIZE, bold) > width:
                    lines.append(line)
                    line = ''
                line += char
        lines.append(line)
    if len(lines) > MAX_CELL_LINES:
        lines = lines[:MAX_CELL_LINES]
        lines[-1] = lines[-1][:-1] + '\u2026'
    return lines


_CELL_STYLES = {}


def _cell_style(bold):
    if bold not in _CELL_STYLES:
        _CELL_STYLES[bold] = ParagraphStyle(
            'cell-bold' if bold else 'cell',
            fontName=FONT_BOLD if bold else FONT,
            fontSize=CELL_FONT_SIZE,
            leading=CELL_LEADING,
            textColor=colors.white if bold else colors.black,
        )
    return _CELL_STYLES[bold]


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
    # (row, col) -> font, for the cells that need another font than their row's; None: mixed
    # scripts (CJK and Latin), drawn as a Paragraph with a run per font.
    fonts = {}
    natural = [0] * ncols
    for number, row in enumerate([header] + rows):
        bold = number == 0
        for col, cell in enumerate(row):
            font = FONTS.for_text(cell, bold=bold)
            if font != (FONT_BOLD if bold else FONT):
                fonts[(number, col)] = font
            width = max(_measure(part, font, bold) for part in cell.split('\n')) + pad
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
        row_font = FONT_BOLD if index == 0 else FONT
        cells = []
        lines = 1
        for col, cell in enumerate(row):
            font = fonts.get((index, col), row_font)
            if font is None:
                wrapped = _wrap_runs(cell, index == 0, widths[col] - pad)
                lines = max(lines, len(wrapped))
                cells.append(Paragraph(markup('\n'.join(wrapped), bold=index == 0), _cell_style(index == 0)))
                continue
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
    return PagedTable(data, widths, heights, style, fonts=fonts)


if HAS_REPORTLAB:

    class PagedTable(Flowable):
        """A long table, laid out one page at a time.

        Each page is a platypus ``Table`` (with the header row, ``repeatRows=1``) built from
        the rows that fit there; the rest stays in a new ``PagedTable`` that shares the same
        row list. Splitting a plain 10,000-row ``Table`` rebuilds the whole remainder on
        every page (quadratic); here the rows that fit are found by bisecting the running
        total of the known row heights, so the whole table costs linear time.
        """

        def __init__(self, data, widths, heights, style, start=1, fonts=None):
            Flowable.__init__(self)
            self.fonts = fonts or {}  # (row, col) -> font of the cells not in their row's font
            self.data = data  # row 0 is the header
            self.widths = widths
            self.heights = heights
            self.style = style
            self.start = start  # first body row still to lay out
            self.hAlign = 'LEFT'
            if start == 1:
                running = [0]
                for height in heights[1:]:
                    running.append(running[-1] + height)
                self.running = running  # running[i] = height of body rows 1..i
            self.width = sum(widths)
            self.height = 0

        def _rest(self, start):
            rest = PagedTable(self.data, self.widths, self.heights, self.style, start, self.fonts)
            rest.running = self.running
            return rest

        def _table(self, start, end):
            style = list(self.style)
            # keep the stripes continuous across pages
            stripes = [colors.white, colors.HexColor(STRIPE)]
            if (start - 1) % 2:
                stripes.reverse()
            style.append(('ROWBACKGROUNDS', (0, 1), (-1, -1), stripes))
            for (row, col), font in self.fonts.items():
                if font is not None and (row == 0 or start <= row < end):
                    at = (col, 0 if row == 0 else row - start + 1)
                    style.append(('FONT', at, at, font, CELL_FONT_SIZE, CELL_LEADING))
            return Table(
                [self.data[0]] + self.data[start:end],
                colWidths=self.widths,
                rowHeights=[self.heights[0]] + self.heights[start:end],
                style=TableStyle(style),
                repeatRows=1,
                hAlign='LEFT',
            )

        def wrap(self, availWidth, availHeight):
            self.height = self.heights[0] + self.running[-1] - self.running[self.start - 1]
            return self.width, self.height

        def split(self, availWidth, availHeight):
            room = availHeight - self.heights[0]
            base = self.running[self.start - 1]
            # last body row whose bottom edge still fits
            end = bisect.bisect_right(self.running, base + room + 1e-6) - 1
            if end < self.start:
                return []  # not even one row fits: try the next page
            if end >= len(self.data) - 1:
                return [self._table(self.start, len(self.data))]
            return [self._table(self.start, end + 1), self._rest(end + 1)]

        def draw(self):
            table = self._table(self.start, len(self.data))
            table.wrapOn(self.canv, self.width, self.height)
            table.drawOn(self.canv, 0, 0)


def _shorten(text, font, size, width):
    """``text`` cut (with an ellipsis) to ``width`` points; ``font`` None: measured in runs."""

    def measure(value):
        return FONTS.width(value, size) if font is None else stringWidth(value, font, size)

    if measure(text) <= width:
        return text
    while text and measure(text + '\u2026') > width:
        text = text[:-1]
    return text.rstrip() + '\u2026'


def text_runs(x, y, text, size, anchor='start', angle=0, bold=False):
    """A drawing Group that shows ``text`` at (x, y) in runs of the fonts that have its characters.

    ``anchor`` ``end`` puts the end of the text at x; ``angle`` turns it (degrees, counter-clockwise)
    about (x, y).
    """
    runs = FONTS.runs(text, bold)
    for char in text:
        if FONTS.font_of(char, bold) is None:
            FONTS.missing.add(char)
    total = sum(stringWidth(part, font, size) for font, part in runs)
    offset = -total if anchor == 'end' else 0.0
    group = Group()
    for font, part in runs:
        group.add(String(offset, 0, part, fontName=font, fontSize=size))
        offset += stringWidth(part, font, size)
    group.transform = (1, 0, 0, 1, x, y)
    if angle:
        group.rotate(angle)
    return group


def _chart_title(drawing, text, height):
    drawing.add(text_runs(0, height - 14, text, 11, bold=True))


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
    drawing.add(pie)
    # The legend, drawn here rather than with reportlab's Legend so that a name can mix fonts
    # (a CJK make with Latin letters or digits).
    top, step, left = 168, 14, 200
    for index, (label, value) in enumerate(slices):
        colour = colors.HexColor(
            OTHER_COLOUR if label == 'Other' and index == len(slices) - 1 else PALETTE[index % len(PALETTE)]
        )
        pie.slices[index].fillColor = colour
        y = top - index * step
        drawing.add(Rect(left, y - 2, 8, 8, fillColor=colour, strokeColor=None))
        drawing.add(text_runs(left + 14, y, _shorten(label, None, 9, 150), 9))
        drawing.add(text_runs(left + 14 + 215, y, '{:,}'.format(value), 9, anchor='end'))
        drawing.add(text_runs(left + 14 + 260, y, '%.1f%%' % (100.0 * value / total), 9, anchor='end'))
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
    top, step = nice_scale(max(chart.data[0]) * 1.05)  # some headroom above the tallest bar
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = _money_axis
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor('#dde2e8')
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.categoryAxis.categoryNames = [''] * len(cars)
    chart.categoryAxis.labels.visible = False
    drawing.add(chart)
    # The names under the bars, turned 40 degrees and ending under each bar, drawn here so that
    # a name can mix fonts (reportlab's axis labels have one font each).
    group_width = chart.width / float(len(cars))
    for index, car in enumerate(cars):
        x = chart.x + group_width * (index + 0.5) + 4
        drawing.add(text_runs(x, chart.y - 10, _shorten(car.label, None, 7.5, 115), 7.5, anchor='end', angle=40))
    return drawing
