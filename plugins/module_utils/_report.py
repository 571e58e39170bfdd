# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PDF reports for ``storeops.shop.build_report``, built with reportlab platypus and charts.

Private to the collection: it can change at any time.

Three kinds (see the module documentation): ``processed_update`` (what a supplier's delivery
put on the site), ``sales_summary`` (the monthly car sales) and ``table`` (any rows). The
layout parts are in ``_pdf``, the loading of rows in ``_report_data``.

Every report is built in memory in reportlab's *invariant* mode (fixed timestamps and
document id), so the same input and options give byte-identical PDFs; the job compares
those bytes with ``dest`` and only writes (atomically) when they differ.

A 10,000-car summary builds in about two seconds (``bench/bench_build_report.py``).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import tempfile

from ansible_collections.storeops.shop.plugins.module_utils import _descriptions, _fs, _publish_s3, _report_csv, _sales
from ansible_collections.storeops.shop.plugins.module_utils._pdf import (
    HAS_REPORTLAB,
    bar_chart,
    build_table,
    frame_width,
    markup,
    pie_chart,
    render,
    styles as pdf_styles,
    text_flowables,
    title_flowable,
    FONTS,
)
from ansible_collections.storeops.shop.plugins.module_utils._report_data import (
    ReportError,
    kind_of,
    load_rows,
    sort_rows,
)
from ansible_collections.storeops.shop.plugins.module_utils._textfiles import ParseError

if HAS_REPORTLAB:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer

KINDS = ('processed_update', 'sales_summary', 'table', 'csv_aggregate')
PDF_KINDS = ('processed_update', 'sales_summary', 'table')
DEFAULT_TITLES = {
    'processed_update': 'Processed Update on {date}',
    'sales_summary': 'Sales summary for last month',
    'table': 'Report',
    'csv_aggregate': _report_csv.DEFAULT_TITLE,
}
# options that only some kinds use: name -> those kinds
KIND_OPTIONS = (
    ('columns', ('table',)),
    ('sort_by', ('table', 'sales_summary', 'csv_aggregate')),
    ('sort_order', ('table', 'sales_summary', 'csv_aggregate')),
    ('skip_invalid', ('processed_update', 'csv_aggregate')),
    ('group_by', ('csv_aggregate',)),
    ('sum_column', ('csv_aggregate',)),
)
MONTHS = (
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
)


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


# --- the three kinds -----------------------------------------------------------------------


def _common_story(title, text, styles):
    story = [title_flowable(title, styles), Spacer(1, 6)]
    story.extend(text_flowables(text, styles))
    return story


def _upload_products(src):
    """Products and refusals from a registered ``catalog_upload`` result."""
    products = src.get('products')
    if not isinstance(products, list):
        raise ReportError(
            'src is not a catalog_upload result: it has no list of products (register the '
            'catalog_upload task and give its result as src)'
        )
    good = []
    for index, product in enumerate(products):
        if (
            not isinstance(product, dict)
            or not isinstance(product.get('name'), str)
            or not isinstance(product.get('weight'), int)
            or isinstance(product.get('weight'), bool)
        ):
            raise ReportError('src.products[%d] is not a product with a name and a whole weight' % index)
        good.append(
            {
                'name': product['name'],
                'weight': product['weight'],
                'file': product.get('file'),
                'status': product.get('status'),
            }
        )
    refused = [entry for entry in src.get('errors') or [] if isinstance(entry, dict)]
    return good, refused


def _folder_products(src, skip_invalid, warnings):
    try:
        products, errors = _descriptions.parse_descriptions(src)
    except ParseError as exc:
        raise ReportError('cannot read src', [exc.to_entry()])
    entries = [error.to_entry() for error in errors]
    if errors and not skip_invalid:
        raise ReportError(
            '%d of %d description files in %s are invalid, no report was written'
            % (len(errors), len(errors) + len(products), src),
            entries,
        )
    if errors:
        warnings.append(
            'skip_invalid: %d invalid description file%s left out of the report: %s'
            % (
                len(errors),
                '' if len(errors) == 1 else 's',
                ', '.join(os.path.basename(error.path) for error in errors),
            )
        )
    return [{'name': p['name'], 'weight': p['weight'], 'file': p['file'], 'status': None} for p in products], entries


def processed_update(src, day, title=None, text=None, page_size='A4', skip_invalid=False, warnings=None):
    """Report for the supplier: one ``name:`` / ``weight:`` block per product.

    ``src`` is a folder of descriptions, or what ``catalog_upload`` returned: then the report
    lists what is really on the site, and the products the upload refused in a section of their own.
    """
    warnings = [] if warnings is None else warnings
    if isinstance(src, dict):
        products, refused = _upload_products(src)
        invalid = []
    else:
        products, invalid = _folder_products(src, skip_invalid, warnings)
        refused = []
    if not products and not refused:
        raise ReportError(
            'no products to report in %s; refusing to build an empty report'
            % ('the upload result' if isinstance(src, dict) else src),
            invalid,
        )
    full_title = make_title('processed_update', title, day)
    styles = pdf_styles()
    story = _common_story(full_title, text, styles)
    story.append(Spacer(1, 6))
    # the supplier's layout: "name: ..." / "weight: ... lbs", then one blank line
    block_style = ParagraphStyle('product', parent=styles['body'], spaceBefore=0, spaceAfter=0)
    for product in products:
        block = 'name: %s\nweight: %d lbs' % (product['name'], product['weight'])
        story.append(Paragraph(markup(block), block_style))
        story.append(Spacer(1, block_style.leading))
    if refused:
        story.append(Paragraph(markup('Not uploaded (%d)' % len(refused), bold=True), styles['h2']))
        for entry in refused:
            where = os.path.basename(entry.get('file') or '') or 'the delivery'
            story.append(Paragraph(markup('%s: %s' % (where, entry.get('message'))), block_style))
            story.append(Spacer(1, block_style.leading / 2))
    data, pages = render(story, full_title, page_size)
    return Report(
        data,
        pages,
        {
            'title': full_title,
            'products': products,
            'total_weight': sum(p['weight'] for p in products),
            'refused': refused,
            'left_out': invalid,
        },
    )


def sales_summary(src, day, title=None, text=None, page_size='A4', sort_by=None, sort_order=None):
    """The monthly car sales report: summary, pie by make, top-10 revenue bars, full table."""
    try:
        cars = _sales.load(src) if isinstance(src, str) else _sales.validate(src)
        ordered = _sales.sort_cars(cars, sort_by or 'total_sales', sort_order)
    except _sales.SalesDataError as exc:
        raise ReportError(exc.message, exc.errors)
    except ValueError as exc:
        raise ReportError(str(exc))
    summary = _sales.summarize(cars)
    full_title = make_title('sales_summary', title, day)
    styles = pdf_styles()
    width = frame_width(page_size)
    story = _common_story(full_title, text, styles)
    story.append(Paragraph('<br/>'.join(markup(line) for line in summary['lines']), styles['body']))
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
        story.append(
            Paragraph(
                'No cars were sold, so there are no charts.'
                if not slices
                else 'There was no revenue, so there is no revenue chart.',
                styles['body'],
            )
        )
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
    styles = pdf_styles()
    story = _common_story(full_title, text, styles)
    story.append(Spacer(1, 6))
    story.append(build_table(header, rows, frame_width(page_size)))
    data, pages = render(story, full_title, page_size)
    return Report(data, pages, {'title': full_title, 'rows': len(rows), 'columns': header})


def check_kind_options(params):
    """Refuse the options that the report's kind does not use."""
    kind = params['kind']
    unused = [name for name, kinds in KIND_OPTIONS if params.get(name) and kind not in kinds]
    if unused:
        raise ReportError('%s cannot be used with kind=%s' % (', '.join(unused), kind))


def generate(params, today=None, warnings=None):
    """Build the report described by the module's options; raises :class:`ReportError`."""
    kind = params['kind']
    if kind not in PDF_KINDS:
        raise ReportError('kind must be one of %s, got %r' % (', '.join(PDF_KINDS), kind))
    src = params['src']
    if isinstance(src, str):
        src = os.path.expanduser(os.path.expandvars(src))  # what type=path does
    elif isinstance(src, dict):
        if kind != 'processed_update':
            raise ReportError('src may be a catalog_upload result only for kind=processed_update')
    elif not isinstance(src, list):
        raise ReportError('src must be a path or a list, got %s' % kind_of(src))
    elif kind == 'processed_update':
        raise ReportError('src must be a descriptions folder or a catalog_upload result for kind=processed_update')
    check_kind_options(params)
    day = parse_report_date(params.get('date'), today)
    FONTS.start()
    common = dict(title=params.get('title'), text=params.get('text'), page_size=params.get('page_size') or 'A4')
    if kind == 'processed_update':
        report = processed_update(src, day, skip_invalid=bool(params.get('skip_invalid')), warnings=warnings, **common)
    elif kind == 'sales_summary':
        report = sales_summary(src, day, sort_by=params.get('sort_by'), sort_order=params.get('sort_order'), **common)
    else:
        report = table(
            src,
            day,
            columns=params.get('columns'),
            sort_by=params.get('sort_by'),
            sort_order=params.get('sort_order'),
            **common,
        )
    report.result['date'] = day.isoformat()
    if warnings is not None:
        warnings.extend(FONTS.warnings())
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


def write_file(dest, data):
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


def build_report(options, check_mode=False, diff=False):
    """The job of ``storeops.shop.build_report``: build the report, write it only when its bytes changed.

    The module applies the file attributes (mode, owner, ...) to ``dest`` afterwards.
    """
    if options['kind'] == 'csv_aggregate':
        return csv_aggregate(options, check_mode=check_mode, diff=diff)
    warnings = []
    dest = options['dest']
    check_destination(dest)
    report = generate(options, warnings=warnings)
    before = file_state(dest)
    after = {'exists': True, 'sha256': hashlib.sha256(report.data).hexdigest(), 'size': len(report.data)}
    changed = before['sha256'] != after['sha256']
    if changed and not check_mode:
        try:
            write_file(dest, report.data)
        except OSError as exc:
            raise ReportError('cannot write %s: %s' % (dest, exc.strerror or exc), dest=dest)
    result = dict(
        report.result,
        changed=changed,
        dest=dest,
        kind=options['kind'],
        pages=report.pages,
        size=after['size'],
        sha256=after['sha256'],
    )
    if diff:
        result['diff'] = {'before_header': dest, 'after_header': dest, 'before': before, 'after': after}
    return result, warnings


def csv_aggregate(options, check_mode=False, diff=False, today=None):
    """``kind=csv_aggregate``: daily CSV files -> the monthly report files in the ``dest`` folder (see ``_report_csv``).

    Only the title is made here (``{date}`` from ``date``, today when it is not set and the title asks for it).
    """
    check_kind_options(options)
    if not isinstance(options.get('src'), str):
        raise ReportError(
            'src must be the path of a folder of daily CSV files for kind=csv_aggregate, got %s'
            % kind_of(options.get('src'))
        )
    template = options.get('title')
    template = DEFAULT_TITLES['csv_aggregate'] if template is None else template
    date = options.get('date')
    day = parse_report_date(date, today) if date or '{date}' in template else None
    title = template.replace('{date}', format_long_date(day)) if day else template
    if not options['src'].startswith('s3://'):
        result, warnings = _report_csv.csv_aggregate(options, title, write_file, check_mode=check_mode, diff=diff)
    else:
        result, warnings = _csv_aggregate_from_s3(options, title, check_mode, diff)
    result.update(kind='csv_aggregate', date=day.isoformat() if day else None)
    return result, warnings


def _csv_aggregate_from_s3(options, title, check_mode, diff):
    """``src: s3://bucket/prefix``: the daily files under the prefix (a paginated listing, as the
    course reads them), fetched into a temporary folder and read from there; the inputs and the
    errors name the objects' URLs, never the temporary files."""
    with tempfile.TemporaryDirectory(prefix='storeops-daily-csv-') as folder:
        fetched, warnings = _publish_s3.fetch_prefix(options.get('s3') or {}, options['src'], folder)
        result, more = _report_csv.csv_aggregate(
            dict(options, src=folder), title, write_file, check_mode=check_mode, diff=diff
        )
    url = options['src'].rstrip('/')

    def named(text):
        return text.replace(folder + os.sep, url + '/').replace(folder, url)

    warnings = warnings + [named(message) for message in more]
    result['inputs'] = [fetched.get(path, path) for path in result.get('inputs', [])]
    for entry in result.get('errors', []) + result.get('left_out', []):
        if isinstance(entry, dict):
            entry['file'] = fetched.get(entry.get('file'), entry.get('file'))
            entry['message'] = named(entry.get('message') or '')
    if 'msg' in result:
        result['msg'] = named(result['msg'])
    return result, warnings
