# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""build_report kind=csv_aggregate: daily CSV files as people and exports really write them."""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _fs, _job
from ansible_collections.storeops.shop.plugins.module_utils import _report as r
from ansible_collections.storeops.shop.plugins.module_utils import _report_csv as c
from ansible_collections.storeops.shop.plugins.module_utils._report_data import ReportError

HEADER = 'date,order_id,product,category,quantity,amount'
OUTPUTS = ['combined.csv', 'final_report.csv', 'final_report.html', 'final_chart.html']


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return str(path)


def daily(folder, name, rows, header=HEADER, newline='\n', bom=False):
    text = newline.join([header] + rows) + newline
    return write(folder, name, (b'\xef\xbb\xbf' if bom else b'') + text.encode('utf-8'))


def options(src, dest, **kwargs):
    base = dict(
        kind='csv_aggregate',
        src=str(src),
        dest=str(dest),
        group_by='category',
        sum_column=None,
        title=None,
        date=None,
        text=None,
        page_size='A4',
        columns=None,
        sort_by=None,
        sort_order=None,
        skip_invalid=False,
    )
    base.update(kwargs)
    return base


def run(src, dest, check_mode=False, diff=False, **kwargs):
    """The job through the module contract: ``(result, warnings, failed)``."""
    return _job.execute(r.build_report, options(src, dest, **kwargs), check_mode=check_mode, diff=diff)


def read_csv(path):
    with open(path, newline='', encoding='utf-8') as handle:
        return list(csv.reader(handle))


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(str(folder)))}


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / 'daily'
    folder.mkdir()
    return folder


@pytest.fixture
def dest(tmp_path):
    return tmp_path / 'build' / '2026' / 'dec'


def good_month(src):
    daily(src, 'orders-2026-12-01.csv', ['2026-12-01,1,Apple,Fruit,2,3.00', '2026-12-01,2,Leek,Vegetable,1,1.25'])
    daily(src, 'orders-2026-12-02.csv', ['2026-12-02,3,Pear,Fruit,1,0.75'])
    daily(src, 'orders-2026-12-10.csv', ['2026-12-10,4,Milk,Dairy,4,4.40', '2026-12-10,5,Plum,Fruit,3,2.10'])


# --- the happy path ------------------------------------------------------------------------


def test_counts_sums_and_the_four_files(src, dest):
    good_month(src)
    result, warnings, failed = run(src, dest, sum_column='amount')
    assert not failed and warnings == [] and result['changed']
    assert sorted(os.listdir(str(dest))) == sorted(OUTPUTS)
    assert [f['name'] for f in result['files']] == OUTPUTS
    assert result['groups'] == [
        {'value': 'Dairy', 'count': 1, 'sum': '4.40'},
        {'value': 'Fruit', 'count': 3, 'sum': '5.85'},
        {'value': 'Vegetable', 'count': 1, 'sum': '1.25'},
    ]
    assert result['total'] == {'count': 5, 'sum': '11.50'}
    assert result['rows'] == 5 and result['errors'] == [] and result['left_out'] == []
    assert result['title'] == 'Report by category' and result['date'] is None
    assert read_csv(str(dest / 'final_report.csv')) == [
        ['category', 'count', 'total_amount'],
        ['Dairy', '1', '4.40'],
        ['Fruit', '3', '5.85'],
        ['Vegetable', '1', '1.25'],
    ]
    combined = read_csv(str(dest / 'combined.csv'))
    assert combined[0] == HEADER.split(',') and [row[1] for row in combined[1:]] == ['1', '2', '3', '4', '5']
    # natural order: day 2 before day 10
    assert [os.path.basename(p) for p in result['inputs']] == [
        'orders-2026-12-01.csv',
        'orders-2026-12-02.csv',
        'orders-2026-12-10.csv',
    ]
    assert (dest / 'final_report.csv').read_bytes().endswith(b'\r\n')


def test_counts_only_without_sum_column(src, dest):
    good_month(src)
    result, _w, failed = run(src, dest)
    assert not failed
    assert read_csv(str(dest / 'final_report.csv')) == [
        ['category', 'count'],
        ['Dairy', '1'],
        ['Fruit', '3'],
        ['Vegetable', '1'],
    ]
    assert 'sum' not in result['groups'][0] and result['total'] == {'count': 5}
    chart = (dest / 'final_chart.html').read_text('utf-8')
    assert chart.count('<svg') == 1


def test_same_input_same_bytes_no_change(src, dest):
    good_month(src)
    first, _w, _f = run(src, dest, sum_column='amount')
    before = snapshot(dest)
    mtimes = {name: os.stat(str(dest / name)).st_mtime_ns for name in OUTPUTS}
    second, _w, failed = run(src, dest, sum_column='amount')
    assert first['changed'] and not second['changed'] and not failed
    assert not any(f['changed'] for f in second['files'])
    assert snapshot(dest) == before
    assert {name: os.stat(str(dest / name)).st_mtime_ns for name in OUTPUTS} == mtimes
    # a fresh folder built from the same input holds the very same bytes
    other = dest.parent / 'again'
    run(src, other, sum_column='amount')
    assert snapshot(other) == before


def test_check_mode_writes_nothing_and_predicts(src, dest):
    good_month(src)
    result, _w, failed = run(src, dest, check_mode=True, sum_column='amount')
    assert not failed and result['changed'] and not dest.exists()
    run(src, dest, sum_column='amount')
    again, _w, _f = run(src, dest, check_mode=True, sum_column='amount')
    assert not again['changed']
    daily(src, 'orders-2026-12-11.csv', ['2026-12-11,6,Kale,Vegetable,1,2.00'])
    before = snapshot(dest)
    changed, _w, _f = run(src, dest, check_mode=True, sum_column='amount')
    assert changed['changed'] and snapshot(dest) == before
    assert [f['name'] for f in changed['files'] if f['changed']] == OUTPUTS


def test_diff_mode_shows_the_aggregate_text(src, dest):
    good_month(src)
    run(src, dest)
    daily(src, 'orders-2026-12-11.csv', ['2026-12-11,6,Kale,Vegetable,1,2.00'])
    result, _w, _f = run(src, dest, diff=True)
    by_name = {os.path.basename(entry['after_header']): entry for entry in result['diff']}
    assert set(by_name) == set(OUTPUTS)
    assert 'Vegetable,1\r\n' in by_name['final_report.csv']['before']
    assert 'Vegetable,2\r\n' in by_name['final_report.csv']['after']
    unchanged, _w, _f = run(src, dest, diff=True)
    assert unchanged['diff'] == [] and not unchanged['changed']


def test_only_changed_files_are_rewritten(src, dest):
    good_month(src)
    run(src, dest)
    before = {name: os.stat(str(dest / name)).st_mtime_ns for name in OUTPUTS}
    # another product in an existing category: combined.csv changes, the counts... change too; a new
    # date column value only changes combined.csv
    path = src / 'orders-2026-12-02.csv'
    path.write_text(path.read_text('utf-8').replace('Pear', 'Quince'), 'utf-8')
    result, _w, _f = run(src, dest)
    assert [f['name'] for f in result['files'] if f['changed']] == ['combined.csv']
    after = {name: os.stat(str(dest / name)).st_mtime_ns for name in OUTPUTS}
    assert [name for name in OUTPUTS if after[name] != before[name]] == ['combined.csv']


# --- CSV as it really comes ----------------------------------------------------------------


def test_quoted_commas_quotes_and_newlines(src, dest):
    daily(
        src,
        'a.csv',
        [
            '2026-12-01,1,"Apples, red","Fruit, fresh",1,"1,234.50"',
            '2026-12-01,2,"The ""best"" pear","Fruit, fresh",1,2',
            '2026-12-01,3,"two\nlines",Veg,1,3',
        ],
    )
    daily(src, 'b.csv', ['2026-12-02,4,x,Veg,1,oops'])
    result, _w, failed = run(src, dest, sum_column='amount')
    assert failed
    assert result['groups'] == [
        {'value': 'Fruit, fresh', 'count': 2, 'sum': '1236.50'},
        {'value': 'Veg', 'count': 1, 'sum': '3'},
    ]
    combined = read_csv(str(dest / 'combined.csv'))
    assert combined[1][2:4] == ['Apples, red', 'Fruit, fresh']
    assert combined[2][2] == 'The "best" pear'
    assert combined[3][2] == 'two\nlines'
    # the row after a quoted newline is reported at its own physical line
    assert result['errors'] == [
        _job.error_entry(
            "'oops' is not a number (write it like 1234.50); the row was left out",
            file=str(src / 'b.csv'),
            line=2,
            field='amount',
        )
    ]


def test_line_numbers_after_a_quoted_newline(src, dest):
    daily(src, 'a.csv', ['2026-12-01,1,"two\nlines",Veg,1,3', '2026-12-01,2,short,Veg'])
    result, _w, failed = run(src, dest)
    assert failed and result['errors'][0]['line'] == 4
    assert result['errors'][0]['message'].startswith('the row has 4 fields but the header has 6')


def test_bom_and_crlf(src, dest):
    daily(
        src,
        'a.csv',
        ['2026-12-01,1,Apple,Fruit,1,1', '2026-12-01,2,"multi\r\nline",Fruit,1,1'],
        newline='\r\n',
        bom=True,
    )
    daily(src, 'b.csv', ['2026-12-02,3,Kale,Veg,1,1'], newline='\n')
    result, _w, failed = run(src, dest, group_by='date')
    assert not failed, result
    assert result['columns'] == HEADER.split(',')  # no '\ufeffdate'
    assert result['group_by'] == 'date'
    assert [g['value'] for g in result['groups']] == ['2026-12-01', '2026-12-02']
    data = (dest / 'combined.csv').read_bytes()
    assert not data.startswith(b'\xef\xbb\xbf')
    assert b'"multi\r\nline"' in data  # a value is kept as it is
    assert data.count(b'\r\n') == 5  # header + 3 rows + the one inside the value


def test_blank_lines_are_skipped(src, dest):
    write(src, 'a.csv', HEADER + '\n\n2026-12-01,1,Apple,Fruit,1,1\n\n\n2026-12-01,2,Pear,Fruit,1,1\n\n')
    result, _w, failed = run(src, dest)
    assert not failed and result['rows'] == 2


def test_non_latin_text(src, dest):
    daily(src, 'a.csv', ['2026-12-01,1,Яблоко,Фрукты,1,1', '2026-12-01,2,梨,果物,1,2', '2026-12-01,3,تفاح,Фрукты,1,3'])
    result, _w, failed = run(src, dest, sum_column='amount', title='Заказы {group_by}')
    assert not failed
    assert [(g['value'], g['count']) for g in result['groups']] == [('Фрукты', 2), ('果物', 1)]
    assert read_csv(str(dest / 'final_report.csv'))[1] == ['Фрукты', '2', '4']
    page = (dest / 'final_report.html').read_text('utf-8')
    assert '<meta charset="utf-8">' in page and '<h1>Заказы category</h1>' in page and '<td>果物</td>' in page
    assert '果物</text>' in (dest / 'final_chart.html').read_text('utf-8')


def test_group_values_are_stripped_case_kept(src, dest):
    daily(src, 'a.csv', ['d,1,p, Fruit ,1,1', 'd,2,p,Fruit,1,1', 'd,3,p,fruit,1,1', 'd,4,p,,1,1'])
    result, _w, _f = run(src, dest)
    assert [(g['value'], g['count']) for g in result['groups']] == [('', 1), ('Fruit', 2), ('fruit', 1)]
    assert '>(empty)</text>' in (dest / 'final_chart.html').read_text('utf-8')


# --- bad input: file and line, good rows kept, nothing half-written ------------------------


def test_different_header_is_left_out_naming_the_file(src, dest):
    good_month(src)
    daily(src, 'orders-2026-12-05.csv', ['2026-12-05,9,Fig,Fruit,1,1'], header='date,order,product,category,qty,amount')
    result, _w, failed = run(src, dest)
    assert failed
    [error] = result['errors']
    assert error['file'] == str(src / 'orders-2026-12-05.csv') and error['line'] == 1
    assert "the header differs from the other files (orders-2026-12-01.csv)" in error['message']
    assert "'order'" in error['message'] and 'the file was left out' in error['message']
    assert result['rows'] == 5  # the good files are in the report
    assert read_csv(str(dest / 'final_report.csv'))[2] == ['Fruit', '3']
    assert re.search(r'orders-2026-12-05\.csv line 1: the header differs', result['msg'])
    assert result['msg'].startswith('1 problem in the daily CSV files in ')


def test_the_majority_header_wins(src, dest):
    daily(src, '01.csv', ['x,y'], header='a,b')
    good_month(src)
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 5
    assert [e['file'] for e in result['errors']] == [str(src / '01.csv')]


def test_wrong_number_of_fields(src, dest):
    daily(
        src,
        'a.csv',
        [
            '2026-12-01,1,Apple,Fruit,1,1',
            '2026-12-01,2,Apples, red,Fruit,1,1',
            '2026-12-01,3,Pear',
            '2026-12-01,4,Plum,Fruit,1,1',
        ],
    )
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 2
    assert [(e['line'], e['message'][:41]) for e in result['errors']] == [
        (3, 'the row has 7 fields but the header has 6'),
        (4, 'the row has 3 fields but the header has 6'),
    ]


def test_not_utf8_names_file_line_and_offset(src, dest):
    good_month(src)
    write(
        src,
        'orders-2026-12-03.csv',
        (HEADER + '\n2026-12-03,7,Apple,Fruit,1,1\n2026-12-03,8,Caf').encode() + b'\xe9,Drinks,1,1\n',
    )
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 5
    [error] = result['errors']
    assert error['file'] == str(src / 'orders-2026-12-03.csv') and error['line'] == 3
    offset = len(HEADER) + 1 + len('2026-12-03,7,Apple,Fruit,1,1\n') + len('2026-12-03,8,Caf')
    assert error['message'].startswith(
        'is not UTF-8 text: byte 0xe9 at byte offset %d (column 17 of the line)' % offset
    )


def test_not_utf8_with_bom_counts_the_bom(src, dest):
    good_month(src)
    write(src, 'z.csv', b'\xef\xbb\xbf' + HEADER.encode() + b'\r\n\xff\r\n')
    result, _w, _f = run(src, dest)
    assert result['errors'][0]['line'] == 2
    assert (
        'byte 0xff at byte offset %d (column 1 of the line)' % (3 + len(HEADER) + 2) in result['errors'][0]['message']
    )


def test_bad_number_in_the_sum_column(src, dest):
    daily(
        src,
        'a.csv',
        [
            'd,1,p,Fruit,1,1.5',
            'd,2,p,Fruit,1,',
            'd,3,p,Fruit,1,12abc',
            'd,4,p,Fruit,1,1e3',
            'd,5,p,Fruit,1,NaN',
            'd,6,p,Fruit,1,$1,000',
            'd,7,p,Fruit,1,"$1,000"',
            'd,8,p,Fruit,1,-.5',
        ],
    )
    result, _w, failed = run(src, dest, sum_column='AMOUNT')  # the column name is matched ignoring case
    assert failed
    assert [(e['line'], e['field']) for e in result['errors']] == [
        (3, 'amount'),
        (4, 'amount'),
        (5, 'amount'),
        (6, 'amount'),
        (7, None),
    ]
    assert result['errors'][0]['message'].startswith("'' is not a number")
    assert result['groups'] == [{'value': 'Fruit', 'count': 3, 'sum': '1001.0'}]
    assert result['sum_column'] == 'amount'


def test_malformed_quote_is_a_row_error(src, dest):
    write(src, 'a.csv', HEADER + '\nd,1,"Apple"s,Fruit,1,1\nd,2,Pear,Fruit,1,1\n')
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 1
    assert result['errors'][0]['line'] == 2 and 'is not valid CSV' in result['errors'][0]['message']


def test_unclosed_quote_ends_the_file(src, dest):
    write(src, 'a.csv', HEADER + '\nd,1,Apple,Fruit,1,1\nd,2,"Pear,Fruit,1,1\nd,3,Plum,Fruit,1,1\n')
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 1
    assert result['errors'][0]['line'] == 3 and 'unexpected end of data' in result['errors'][0]['message']


def test_empty_file_and_header_only_file(src, dest):
    good_month(src)
    write(src, 'empty.csv', b'')
    write(src, 'header-only.csv', HEADER + '\r\n')
    result, _w, failed = run(src, dest)
    assert failed and result['rows'] == 5
    assert result['errors'] == [
        _job.error_entry(
            'is empty: there is no header line; the file was left out', file=str(src / 'empty.csv'), line=1
        )
    ]
    assert str(src / 'header-only.csv') in result['inputs']


def test_empty_folder_writes_nothing(src, dest):
    write(src, 'notes.txt', 'not a csv')
    write(src, '.hidden.csv', HEADER + '\nd,1,p,Fruit,1,1\n')
    (src / 'sub.csv').mkdir()
    result, _w, failed = run(src, dest)
    assert failed and not dest.exists()
    assert re.search(r'has no daily CSV files \(\*\.csv\); refusing to build an empty report', result['msg'])


def test_missing_src_and_only_bad_files(src, dest, tmp_path):
    result, _w, failed = run(tmp_path / 'nope', dest)
    assert failed and 'does not exist' in result['msg']
    write(src, 'a.csv', b'\xff\xfe')
    write(src, 'b.csv', HEADER + '\nd,1,p\n')
    result, _w, failed = run(src, dest)
    assert failed and not dest.exists()
    assert result['msg'].startswith('no good data rows in the 2 daily CSV files')
    assert [e['file'] for e in result['errors']] == [str(src / 'a.csv'), str(src / 'b.csv')]


def test_bad_options(src, dest):
    good_month(src)
    for kwargs, message in [
        (dict(group_by='colour'), "group_by 'colour' is not a column of the daily CSV files; the columns are: 'date'"),
        (dict(sum_column='price'), "sum_column 'price' is not a column"),
        (dict(group_by=None), 'needs group_by'),
        (dict(sort_by='product'), "sort_by 'product': for kind=csv_aggregate sort by the group_by column"),
        (dict(columns=['a']), 'columns cannot be used with kind=csv_aggregate'),
        (dict(src=['a']), 'src must be the path of a folder'),
        (dict(dest=str(src)), 'dest must not be the src folder'),
    ]:
        result, _w, failed = _job.execute(r.build_report, dict(options(src, dest), **kwargs))
        assert failed and message in result['msg'], (kwargs, result['msg'])
    assert not dest.exists()
    result, _w, failed = _job.execute(
        r.build_report,
        dict(options(src, dest), kind='table', src=[['a'], ['b']], dest=str(src.parent / 'x.pdf'), group_by='x'),
    )
    assert failed and 'group_by cannot be used with kind=table' in result['msg']


def test_dest_is_a_file(src, tmp_path):
    good_month(src)
    target = tmp_path / 'file'
    target.write_text('x')
    result, _w, failed = run(src, target)
    assert failed and 'is not a folder' in result['msg'] and target.read_text() == 'x'


def test_skip_invalid_succeeds_and_warns(src, dest):
    good_month(src)
    daily(src, 'orders-2026-12-04.csv', ['2026-12-04,8,Fig,Fruit,1'])
    result, warnings, failed = run(src, dest, skip_invalid=True)
    assert not failed and result['errors'] == [] and len(result['left_out']) == 1
    assert warnings == [
        'skip_invalid: 1 problem in the daily CSV files left out of the report (see left_out): orders-2026-12-04.csv'
    ]
    assert '1 problem in the daily files: the rows and files at fault are not counted.' in (
        dest / 'final_report.html'
    ).read_text('utf-8')


def test_failed_run_writes_the_good_rows_atomically_and_is_stable(src, dest):
    good_month(src)
    daily(src, 'orders-2026-12-04.csv', ['2026-12-04,8,Fig,Fruit,1'])
    first, _w, failed = run(src, dest)
    assert failed and first['changed']
    before = snapshot(dest)
    second, _w, failed = run(src, dest)
    assert failed and not second['changed'] and snapshot(dest) == before
    assert not [name for name in os.listdir(str(dest)) if name.endswith('.tmp')]


def test_interrupted_write_leaves_the_old_file(src, dest):
    good_month(src)
    run(src, dest)
    before = snapshot(dest)
    daily(src, 'orders-2026-12-11.csv', ['2026-12-11,6,Kale,Vegetable,1,2.00'])

    def broken(path, data):
        # the disk fills up half way through the real atomic write
        with _fs.atomic_output(path) as handle:
            handle.write(data[:10])
            raise OSError(28, 'No space left on device')

    with pytest.raises(ReportError) as info:
        c.csv_aggregate(options(src, dest), None, broken)
    assert 'cannot write %s' % (dest / 'combined.csv') in info.value.message
    assert snapshot(dest) == before  # no half-written file, no temporary file left


def test_output_replaces_a_symlink_not_its_target(src, dest, tmp_path):
    good_month(src)
    dest.mkdir(parents=True)
    outside = tmp_path / 'outside.txt'
    outside.write_text('keep me')
    os.symlink(str(outside), str(dest / 'final_report.csv'))
    run(src, dest)
    assert outside.read_text() == 'keep me'
    assert not os.path.islink(str(dest / 'final_report.csv'))


# --- HTML: escaped, no script, well formed -------------------------------------------------


class Collector(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_injection_is_escaped(src, dest):
    evil = '<script>alert(1)</script>'
    daily(src, 'a.csv', ['d,1,p,"%s",1,1' % evil, 'd,2,p,"a"" onmouseover=""x",1,1', 'd,3,p,&amp;,1,1'])
    result, _w, failed = run(
        src,
        dest,
        sum_column='amount',
        title='<img src=x onerror=alert(1)> {group_by}',
        text='<b>bold</b>\n\nsecond & last',
    )
    assert not failed
    for name in ('final_report.html', 'final_chart.html'):
        page = (dest / name).read_text('utf-8')
        assert '<script' not in page and '<img' not in page and '<b>' not in page
        assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page
        assert '&amp;amp;' in page and 'second &amp; last' in page
        parser = Collector()
        parser.feed(page)
        assert 'script' not in parser.tags and 'img' not in parser.tags
        assert evil in ''.join(parser.text)
    chart = (dest / 'final_chart.html').read_text('utf-8')
    assert chart.count('<svg') == 2 and 'a&quot; onmouseover=&quot;x' in chart


def test_html_pages_link_each_other_relatively(src, dest):
    good_month(src)
    run(src, dest)
    page = (dest / 'final_report.html').read_text('utf-8')
    links = re.findall(r'href="([^"]+)"', page)
    assert links == ['final_chart.html', 'final_report.csv', 'combined.csv']
    assert '<tfoot>\n<tr><th scope="row">Total</th><td class="num">5</td></tr>' in page


def test_long_labels_are_cut_in_the_chart_only(src, dest):
    label = 'A very long category name ' * 10
    daily(src, 'a.csv', ['d,1,p,"%s",1,1' % label])
    result, _w, _f = run(src, dest)
    chart = (dest / 'final_chart.html').read_text('utf-8')
    assert '\u2026</text>' in chart and '<title>%s: 1</title>' % label.strip() in chart
    assert result['groups'][0]['value'] == label.strip()


# --- sorting, titles, dates ----------------------------------------------------------------


def test_sort_by_count_sum_and_value(src, dest):
    daily(src, 'a.csv', ['d,1,p,B,1,5', 'd,2,p,B,1,5', 'd,3,p,a,1,1', 'd,4,p,a,1,1', 'd,5,p,C,1,20'])

    def order(**kwargs):
        return [g['value'] for g in run(src, dest, sum_column='amount', **kwargs)[0]['groups']]

    assert order() == ['a', 'B', 'C']
    assert order(sort_order='desc') == ['C', 'B', 'a']
    assert order(sort_by='count') == ['a', 'B', 'C']  # ties keep the value order
    assert order(sort_by='count', sort_order='asc') == ['C', 'a', 'B']
    assert order(sort_by='sum') == ['C', 'B', 'a']
    assert order(sort_by='total_amount', sort_order='asc') == ['a', 'B', 'C']
    assert order(sort_by='Category') == ['a', 'B', 'C']


def test_title_and_date(src, dest):
    good_month(src)
    result, _w, _f = run(src, dest, title='Orders by {group_by}, {date}', date='2026-12-31')
    assert result['title'] == 'Orders by category, December 31, 2026' and result['date'] == '2026-12-31'
    assert '<title>Orders by category, December 31, 2026</title>' in (dest / 'final_report.html').read_text('utf-8')
    result, _w, _f = _job.execute(
        lambda o, check_mode, diff: r.csv_aggregate(o, today=datetime.date(2027, 1, 2)),
        options(src, dest, title='{date}'),
    )
    assert result['title'] == 'January 2, 2027'
    result, _w, failed = run(src, dest, date='31.12.2026')
    assert failed and 'YYYY-MM-DD' in result['msg']


def test_parse_amount():
    assert c.parse_amount(' 12.50 ') == c.decimal.Decimal('12.50')
    assert c.parse_amount('$1,234.56') == c.decimal.Decimal('1234.56')
    assert c.parse_amount('-.5') == c.decimal.Decimal('-0.5')
    for bad in ('', 'abc', '1e3', 'NaN', 'Infinity', '1,23', '1.2.3', '--1', '12 000'):
        assert c.parse_amount(bad) is None, bad


def test_many_rows_are_fast_enough(src, dest):
    rows = [
        '2026-12-%02d,%d,p%d,cat%d,1,%d.%02d' % (day, i, i % 50, i % 7, i % 100, i % 100)
        for day in range(1, 31)
        for i in range(day * 1000, day * 1000 + 1000)
    ]
    write(src, 'all.csv', '\n'.join([HEADER] + rows) + '\n')
    result, _w, failed = run(src, dest, sum_column='amount')
    assert not failed and result['rows'] == 30000 and len(result['groups']) == 7
    buffer = io.StringIO((dest / 'combined.csv').read_text('utf-8'), newline='')
    assert sum(1 for _row in csv.reader(buffer)) == 30001
