# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import io
import json
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _pdf
from ansible_collections.storeops.shop.plugins.module_utils import _report as r
from ansible_collections.storeops.shop.plugins.module_utils import _report_data

# No skips: reportlab is in requirements/dev.txt and poppler-utils among the Debian packages `make` installs.
assert shutil.which('pdftotext') and shutil.which('pdftoppm'), 'poppler-utils is missing: run make deps'

DAY = datetime.date(2026, 11, 23)


def rec(record_id, make, model, year, price, sales):
    return {
        'id': record_id,
        'car': {'car_make': make, 'car_model': model, 'car_year': year},
        'price': price,
        'total_sales': sales,
    }


CARS = [
    rec(47, 'Lamborghini', 'Murci\u00e9lago', 2002, '$13724.05', 149),
    rec(73, 'Porsche', '911', 2010, '$6,057.74', 882),
    rec(85, 'Mercury', 'Sable', 2005, '$45660.46', 874),
    rec(12, 'Acura', 'TL', 2007, '$14459.15', 1192),
    rec(5, 'Acura', 'MDX', 2005, '$1,000.00', 10),
]


def pdf_text(data, tmp_path, *args):
    path = tmp_path / 'x.pdf'
    path.write_bytes(data)
    return subprocess.run(['pdftotext'] + list(args) + [str(path), '-'], check=True, capture_output=True).stdout.decode(
        'utf-8'
    )


def params(**kwargs):
    base = dict(
        kind='sales_summary',
        src=CARS,
        dest='/unused',
        title=None,
        date='2026-11-23',
        text=None,
        page_size='A4',
        columns=None,
        sort_by=None,
        sort_order=None,
        skip_invalid=False,
    )
    base.update(kwargs)
    return base


# --- dates and titles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    'day, text',
    [
        (datetime.date(2026, 11, 23), 'November 23, 2026'),
        (datetime.date(2027, 1, 1), 'January 1, 2027'),
        (datetime.date(2024, 2, 29), 'February 29, 2024'),
    ],
)
def test_long_date_is_english_whatever_the_locale(day, text):
    assert r.format_long_date(day) == text


def test_parse_report_date():
    assert r.parse_report_date('2026-11-23') == DAY
    assert r.parse_report_date(None, today=DAY) == DAY
    assert r.parse_report_date(None) == datetime.date.today()
    with pytest.raises(r.ReportError, match=r"date '23/11/2026' is not a date in YYYY-MM-DD form"):
        r.parse_report_date('23/11/2026')
    with pytest.raises(r.ReportError, match=r"date '2026-02-30' is not a real date"):
        r.parse_report_date('2026-02-30')


def test_titles():
    assert r.make_title('processed_update', None, DAY) == 'Processed Update on November 23, 2026'
    assert r.make_title('sales_summary', None, DAY) == 'Sales summary for last month'
    assert r.make_title('table', 'Stock {date} {x}', DAY) == 'Stock November 23, 2026 {x}'


# --- layout helpers ------------------------------------------------------------------------


def test_column_widths():
    assert _pdf.column_widths([50, 100], 400) == [50, 100]
    # narrow columns keep their width, wide ones share the rest
    assert _pdf.column_widths([40, 500, 60, 900], 400) == [40, 150, 60, 150]


def test_wrap_cuts_long_words():
    lines = _pdf._wrap('x' * 200 + ' tail', 'Helvetica', 9, 100)
    assert len(lines) > 2
    assert all(_pdf.stringWidth(line, 'Helvetica', 9) <= 100 for line in lines)
    assert ''.join(lines[:-1]) + lines[-1] == 'x' * 200 + 'tail'


def test_as_number():
    assert _report_data.as_number('$1,234.50') == 1234.5
    assert _report_data.as_number('-3') == -3
    assert _report_data.as_number('12a') is None
    assert _report_data.as_number('') is None


def test_nice_scale():
    assert _pdf.nice_scale(125.3e6) == (150e6, 50e6)
    assert _pdf.nice_scale(120e6) == (125e6, 25e6)
    assert _pdf.nice_scale(7) == (8, 2)
    assert _pdf.nice_scale(0) == (1.0, 1.0)


# --- table rows ----------------------------------------------------------------------------


def test_load_rows_list_of_lists_and_dicts():
    assert _report_data.load_rows([['Name', 'Amount'], ['figs', 5], ['kiwi']]) == (
        ['Name', 'Amount'],
        [['figs', '5'], ['kiwi', '']],
    )
    assert _report_data.load_rows([['figs', 5]], columns=['Name', 'Amount']) == (['Name', 'Amount'], [['figs', '5']])
    header, rows = _report_data.load_rows([{'a': 1, 'b': None}, {'c': True, 'a': [1, 2]}])
    assert header == ['a', 'b', 'c']
    assert rows == [['1', '', ''], ['[1, 2]', '', 'true']]
    assert _report_data.load_rows([{'a': 1, 'b': 2}], columns=['b', 'z']) == (['b', 'z'], [['2', '']])


def test_load_rows_files(tmp_path):
    (tmp_path / 'rows.csv').write_text('Name,Amount\r\nfigs,5\r\n\r\napples,"1,200"\r\n')
    assert _report_data.load_rows(str(tmp_path / 'rows.csv')) == (
        ['Name', 'Amount'],
        [['figs', '5'], ['apples', '1,200']],
    )
    (tmp_path / 'rows.json').write_text('[{"x": 1}]')
    assert _report_data.load_rows(str(tmp_path / 'rows.json')) == (['x'], [['1']])


@pytest.mark.parametrize(
    'src, message',
    [
        ([], 'there are no rows'),
        ([['only', 'header']], 'there is a header but no rows'),
        ({'a': 1}, 'expected a list of rows, got an object'),
        ([['a'], 'b'], 'the row at index 1 is a str'),
        ([['a'], ['b', 'c']], 'the row at index 1 has 2 cells but the header has 1'),
    ],
)
def test_load_rows_errors(src, message):
    with pytest.raises(r.ReportError, match=re.escape(message)):
        _report_data.load_rows(src)


def test_load_rows_bad_files(tmp_path):
    (tmp_path / 'bad.json').write_text('[\n  ["a",]\n]')
    with pytest.raises(r.ReportError, match=r'bad.json is not valid JSON: Expecting value at line 2, column 8'):
        _report_data.load_rows(str(tmp_path / 'bad.json'))
    with pytest.raises(r.ReportError, match=r'cannot read src .*missing.csv: No such file or directory'):
        _report_data.load_rows(str(tmp_path / 'missing.csv'))


def test_sort_rows_numbers_text_and_empty_cells():
    header = ['Name', 'Price']
    rows = [['b', '$10.00'], ['a', ''], ['C', '$9.50'], ['d', '$1,000.00'], ['e', '$9.50']]
    assert [row[0] for row in _report_data.sort_rows(header, rows, 'price')] == ['C', 'e', 'b', 'd', 'a']
    assert [row[0] for row in _report_data.sort_rows(header, rows, 'Price', 'desc')] == ['d', 'b', 'C', 'e', 'a']
    assert [row[0] for row in _report_data.sort_rows(header, rows, 'Name')] == ['a', 'b', 'C', 'd', 'e']
    with pytest.raises(r.ReportError, match="sort_by 'colour' is not a column; the columns are: Name, Price"):
        _report_data.sort_rows(header, rows, 'colour')


# --- whole reports -------------------------------------------------------------------------


def test_same_input_same_bytes():
    first = r.generate(params())
    second = r.generate(params())
    assert first.data == second.data
    assert first.data.startswith(b'%PDF-')
    assert r.generate(params(date='2026-11-24', title='{date}')).data != r.generate(params(title='{date}')).data


def test_sales_summary_text(tmp_path):
    report = r.generate(params())
    assert report.pages == 1
    assert report.result['summary']['lines'] == [
        'The Mercury Sable (2005) generated the most revenue: $39,907,242.04',
        'The Acura TL (2007) had the most sales: 1192',
        'The most popular year was 2007 with 1192 sales.',
    ]
    text = pdf_text(report.data, tmp_path)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == 'Sales summary for last month'
    assert lines[1:4] == report.result['summary']['lines']
    layout = pdf_text(report.data, tmp_path, '-layout')
    table = [
        re.sub(r'\s+', ' ', line.strip())
        for line in layout.splitlines()
        if re.match(r'^\s*(ID\s+Car\s+Price\s+Total Sales|\d+\s+\S.*\$[\d,]+\.\d\d\s+\d+)\s*$', line)
    ]
    assert table[0] == 'ID Car Price Total Sales'
    # every input row, sorted by total sales, highest first
    assert table[1:] == [
        '12 Acura TL (2007) $14,459.15 1192',
        '73 Porsche 911 (2010) $6,057.74 882',
        '85 Mercury Sable (2005) $45,660.46 874',
        '47 Lamborghini Murci\u00e9lago (2002) $13,724.05 149',
        '5 Acura MDX (2005) $1,000.00 10',
    ]


def _word_boxes(data, tmp_path):
    html = pdf_text(data, tmp_path, '-bbox', '-f', '1', '-l', '1')
    return [
        (float(a), float(b), float(c), float(d), word)
        for a, b, c, d, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
        )
    ]


def _colourful_pixels(image, box):
    """Pixels in ``box`` (x0, y0, x1, y1) that are clearly coloured (not white, grey or black)."""
    raw = image.crop(box).convert('RGB').tobytes()
    count = 0
    for i in range(0, len(raw), 3):
        pixel = raw[i : i + 3]
        if max(pixel) - min(pixel) > 60:
            count += 1
    return count


def test_charts_are_really_drawn(tmp_path):
    from PIL import Image

    report = r.generate(params())
    (tmp_path / 'r.pdf').write_bytes(report.data)
    # 72 dpi: one pixel per PDF point, the same coordinates as pdftotext -bbox
    subprocess.run(
        [
            'pdftoppm',
            '-png',
            '-r',
            '72',
            '-f',
            '1',
            '-l',
            '1',
            '-singlefile',
            str(tmp_path / 'r.pdf'),
            str(tmp_path / 'page'),
        ],
        check=True,
    )
    image = Image.open(str(tmp_path / 'page.png')).convert('RGB')
    words = _word_boxes(report.data, tmp_path)
    pie_title = next(w for w in words if w[4] == 'Total' and words[words.index(w) + 1][4] == 'sales')
    bar_title = next(w for w in words if w[4] == 'Top')
    # the pie: left of the legend, below its title
    pie_box = (int(pie_title[0]), int(pie_title[3]) + 5, int(pie_title[0]) + 175, int(pie_title[3]) + 180)
    assert _colourful_pixels(image, pie_box) > 10000  # a 160 pt disc is ~20,000 px
    # the bars: between the bar chart title and its rotated labels
    bar_box = (int(bar_title[0]) + 60, int(bar_title[3]) + 10, int(image.width - 60), int(bar_title[3]) + 160)
    assert _colourful_pixels(image, bar_box) > 3000
    # and the rest of the page is not just one big coloured blob
    assert _colourful_pixels(image, (0, 0, image.width, int(pie_title[1]))) == 0


def test_pie_groups_small_makes(tmp_path):
    cars = [rec(i, 'Make%02d' % i, 'Model', 2000 + i % 3, '$1,000.00', 100 + i) for i in range(20)]
    cars += [rec(100 + i, 'Tiny%d' % i, 'T', 2001, '$10', 1) for i in range(30)]
    report = r.generate(params(src=cars))
    pie_part = pdf_text(report.data, tmp_path, '-f', '1', '-l', '1').split('Top 10 cars by revenue')[0]
    legend = re.findall(r'^(Make\d\d|Other|Tiny\d+)$', pie_part, re.M)
    assert legend == ['Make19', 'Make18', 'Make17', 'Make16', 'Make15', 'Make14', 'Make13', 'Make12', 'Make11', 'Other']


def test_bar_chart_names_are_short_and_do_not_overlap():
    import math
    from ansible_collections.storeops.shop.plugins.module_utils import _sales

    cars = _sales.validate(
        [
            rec(i, 'Bugatti', 'Veyron Super Sport Vitesse Grand Sport Edition %d' % i, 2015, '$2,000,000', 50 + i)
            for i in range(10)
        ]
    )
    drawing = _pdf.bar_chart(cars, _pdf.frame_width())
    position = next(i for i, item in enumerate(drawing.contents) if isinstance(item, _pdf.VerticalBarChart))
    chart = drawing.contents[position]
    labels = drawing.contents[position + 1 :]  # one group of text runs per bar
    names = [''.join(string.text for string in group.contents) for group in labels]
    size = labels[0].contents[0].fontSize
    assert len(names) == 10 and all(name.endswith('\u2026') for name in names)
    assert max(sum(_pdf.stringWidth(s.text, s.fontName, s.fontSize) for s in group.contents) for group in labels) <= 115
    # rotated labels are parallel; the gap between them (perpendicular) must exceed a line of text
    spacing = chart.width / len(names)
    assert spacing * math.sin(math.radians(40)) > 1.5 * size
    # and the longest label fits in the space below the axis
    assert 115 * math.sin(math.radians(40)) + size < chart.y


def test_big_table_repeats_header_on_every_page(tmp_path):
    cars = [rec(i, 'Ford', 'Focus', 2000 + i % 10, '$1,000.00', i) for i in range(400)]
    report = r.generate(params(src=cars))
    assert report.pages > 5
    text = pdf_text(report.data, tmp_path, '-layout')
    pages = text.split('\f')[: report.pages]
    for page in pages:
        assert re.search(r'^\s*ID\s+Car\s+Price\s+Total Sales\s*$', page, re.M)
    ids = re.findall(r'^\s*(\d+)\s+Ford Focus', text, re.M)
    assert ids == [str(i) for i in range(399, -1, -1)]  # every row, once, in order
    assert 'Page %d' % report.pages in pages[-1]


def test_processed_update_text(tmp_path):
    folder = tmp_path / 'descriptions'
    folder.mkdir()
    (folder / '001.txt').write_text('Apple\n500 lbs\nSweet.\n')
    (folder / '002.txt').write_bytes(b'\xef\xbb\xbfAvocado\r\n200lbs\r\nGreen.\r\n')
    (folder / '010.txt').write_text('Fish & <Chips>\n7 LB\n')
    report = r.generate(params(kind='processed_update', src=str(folder)))
    assert report.result['title'] == 'Processed Update on November 23, 2026'
    assert report.result['total_weight'] == 707
    assert [p['name'] for p in report.result['products']] == ['Apple', 'Avocado', 'Fish & <Chips>']
    text = pdf_text(report.data, tmp_path)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines == [
        'Processed Update on November 23, 2026',
        'name: Apple',
        'weight: 500 lbs',
        'name: Avocado',
        'weight: 200 lbs',
        'name: Fish & <Chips>',
        'weight: 7 lbs',
        'Page 1',
    ]
    layout = pdf_text(report.data, tmp_path, '-layout')
    assert 'weight: 500 lbs\n\nname: Avocado' in layout  # one blank line between products


def test_processed_update_bad_files(tmp_path):
    folder = tmp_path / 'descriptions'
    folder.mkdir()
    (folder / '001.txt').write_text('Apple\n500 lbs\n')
    (folder / '002.txt').write_text('Pear\nfive hundred lbs\n')
    with pytest.raises(r.ReportError) as exc:
        r.generate(params(kind='processed_update', src=str(folder)))
    assert str(exc.value).startswith(
        '1 of 2 description files in %s are invalid, no report was written: %s line 2 '
        '(weight): weight' % (folder, folder / '002.txt')
    )
    assert exc.value.errors[0]['line'] == 2 and exc.value.errors[0]['field'] == 'weight'
    warnings = []
    report = r.generate(params(kind='processed_update', src=str(folder), skip_invalid=True), warnings=warnings)
    assert [p['name'] for p in report.result['products']] == ['Apple']
    assert report.result['left_out'][0]['file'] == str(folder / '002.txt')
    assert warnings == ['skip_invalid: 1 invalid description file left out of the report: 002.txt']
    (folder / '001.txt').unlink()
    with pytest.raises(r.ReportError, match='no products to report'):
        r.generate(params(kind='processed_update', src=str(folder), skip_invalid=True))
    with pytest.raises(r.ReportError, match='cannot read src: .* cannot list the folder'):
        r.generate(params(kind='processed_update', src=str(tmp_path / 'nope')))


def test_table_text_and_width(tmp_path):
    rows = [{'Name': 'elderberries', 'Amount': 10, 'Note': 'word ' * 80}, {'Name': 'figs', 'Amount': 5, 'Note': ''}]
    report = r.generate(
        params(
            kind='table',
            src=rows,
            title='A Complete Inventory of My Fruit',
            text='This is all my fruit.',
            sort_by='amount',
        )
    )
    assert report.result['rows'] == 2 and report.result['columns'] == ['Name', 'Amount', 'Note']
    text = pdf_text(report.data, tmp_path, '-layout')
    assert text.lstrip().startswith('A Complete Inventory of My Fruit')
    assert re.search(r'figs\s+5\s*\n', text)
    assert text.index('figs') < text.index('elderberries')
    # the long cell wraps inside the page: no word beyond the right margin
    page_width = 595.27
    assert all(w[2] <= page_width - _pdf.MARGIN + 1 for w in _word_boxes(report.data, tmp_path))


@pytest.mark.parametrize(
    'kind, src, message',
    [
        ('sales_summary', [], 'the list of car sales records is empty'),
        ('sales_summary', [rec(1, 'A', 'B', 2000, 'free', 1)], "record 0 (id 1): price 'free' is not a price"),
        (
            'sales_summary',
            '/nonexistent/cars.json',
            '/nonexistent/cars.json: cannot be read: No such file or directory',
        ),
        ('processed_update', [], 'src must be a descriptions folder or a catalog_upload result'),
        ('table', 42, 'src must be a path or a list, got a int'),
    ],
)
def test_generate_errors(kind, src, message):
    with pytest.raises(r.ReportError) as exc:
        r.generate(params(kind=kind, src=src))
    assert message in str(exc.value)


def test_generate_rejects_options_of_other_kinds():
    with pytest.raises(r.ReportError, match='columns, skip_invalid cannot be used with kind=sales_summary'):
        r.generate(params(columns=['a'], skip_invalid=True))
    with pytest.raises(r.ReportError, match='sort_by must be one of'):
        r.generate(params(sort_by='colour'))


def test_malformed_json_file(tmp_path):
    path = tmp_path / 'cars.json'
    path.write_text(json.dumps(CARS)[:-20])
    with pytest.raises(r.ReportError, match=r'cars.json line 1: is not valid JSON: .* at line 1, column \d+'):
        r.generate(params(src=str(path)))


def test_letter_page_size():
    from pypdf import PdfReader

    report = r.generate(params(page_size='letter'))
    box = PdfReader(io.BytesIO(report.data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


# --- writing -------------------------------------------------------------------------------


def test_write_file_keeps_mode_and_file_state(tmp_path):
    dest = tmp_path / 'r.pdf'
    assert r.file_state(str(dest)) == {'exists': False, 'sha256': None, 'size': None}
    r.write_file(str(dest), b'%PDF-1')
    dest.chmod(0o600)
    r.write_file(str(dest), b'%PDF-2')
    assert dest.read_bytes() == b'%PDF-2'
    assert dest.stat().st_mode & 0o777 == 0o600
    assert r.file_state(str(dest))['size'] == 6
    assert os.listdir(str(tmp_path)) == ['r.pdf']


def test_check_destination(tmp_path):
    r.check_destination(str(tmp_path / 'ok.pdf'))
    with pytest.raises(r.ReportError, match='is a directory'):
        r.check_destination(str(tmp_path))
    with pytest.raises(r.ReportError, match='the directory of dest does not exist'):
        r.check_destination(str(tmp_path / 'no' / 'r.pdf'))


# --- non-Latin text ------------------------------------------------------------------------

NON_LATIN = [
    rec(1, 'Лада', 'Нива', 2010, '$100.00', 7),
    rec(2, 'Ελλάδα', 'Ωμέγα', 2011, '$5.00', 3),
    rec(3, '比亚迪', '汉', 2020, '$9.00', 4),
]


def test_cyrillic_greek_and_cjk_are_real_text_in_every_part_of_the_pdf(tmp_path):
    """Issue: Cyrillic, Greek and CJK names printed as boxes with rc 0 (Helvetica, WinAnsi)."""
    warnings = []
    report = r.generate(params(src=NON_LATIN, title='Продажи 销售 Πωλήσεις', text='Отчёт за месяц.'), warnings=warnings)
    assert warnings == []
    text = pdf_text(report.data, tmp_path)
    for word in (
        'Продажи 销售 Πωλήσεις',
        'Отчёт за месяц.',
        'Лада Нива (2010)',
        'Ελλάδα Ωμέγα (2011)',
        '比亚迪 汉 (2020)',
    ):
        assert word in text, word
    fonts = subprocess.run(['pdffonts', '-'], input=report.data, capture_output=True, check=True).stdout.decode()
    embedded = [line.split()[0] for line in fonts.splitlines()[2:] if ' yes yes yes ' in line]
    assert sorted(name.split('+')[1] for name in embedded) == ['DejaVuSans', 'DejaVuSans-Bold', 'DroidSansFallback']


def test_non_latin_reports_are_the_same_bytes_every_time():
    first = r.generate(params(src=NON_LATIN)).data
    assert r.generate(params(src=NON_LATIN)).data == first


def test_a_character_no_font_has_is_a_warning_naming_it(tmp_path):
    warnings = []
    r.generate(params(kind='table', src=[['Item'], ['Linear B \U00010000']]), warnings=warnings)
    assert len(warnings) == 1 and '\U00010000' in warnings[0] and 'print as boxes' in warnings[0]


def test_processed_update_from_the_uploads_result_lists_refusals_apart(tmp_path):
    upload = {
        'products': [
            {'name': 'Apple', 'weight': 500, 'file': '/d/001.txt', 'status': 'created'},
            {'name': 'Яблоко', 'weight': 7, 'file': '/d/002.txt', 'status': 'unchanged'},
        ],
        'errors': [
            {
                'file': '/d/003.txt',
                'line': 1,
                'field': 'name',
                'message': "product name 'Apple' is already used by /d/001.txt; names must be unique",
            }
        ],
    }
    report = r.generate(params(kind='processed_update', src=upload))
    assert [p['name'] for p in report.result['products']] == ['Apple', 'Яблоко']
    assert report.result['refused'] == upload['errors']
    lines = [line.strip() for line in pdf_text(report.data, tmp_path).splitlines() if line.strip()]
    assert lines[:5] == [
        'Processed Update on November 23, 2026',
        'name: Apple',
        'weight: 500 lbs',
        'name: Яблоко',
        'weight: 7 lbs',
    ]
    assert 'Not uploaded (1)' in lines
    assert "003.txt: product name 'Apple' is already used by /d/001.txt; names must be unique" in ' '.join(lines)
    with pytest.raises(r.ReportError, match='not a catalog_upload result'):
        r.generate(params(kind='processed_update', src={'changed': True}))
