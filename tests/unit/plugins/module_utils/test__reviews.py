# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import os

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _reviews as r
from ansible_collections.storeops.shop.plugins.module_utils._textfiles import ParseError


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return str(path)


def test_course_review(tmp_path):
    path = write(tmp_path, '001.txt', 'Experienced salespeople\nAlex H.\n2020-02-02\nIt was great.\n')
    assert r.parse_review(path) == {
        'stem': '001',
        'file': path,
        'title': 'Experienced salespeople',
        'name': 'Alex H.',
        'date': '2020-02-02',
        'feedback': 'It was great.',
    }


def test_crlf_bom_multiline_feedback(tmp_path):
    data = b'\xef\xbb\xbfGreat car \r\nSam \r\n 2021-12-31 \r\nFirst line.\r\nSecond line.\r\n\r\n'
    review = r.parse_review(write(tmp_path, '002.txt', data))
    assert review['title'] == 'Great car'
    assert review['date'] == '2021-12-31'
    assert review['feedback'] == 'First line.\nSecond line.'


@pytest.mark.parametrize(
    'text, message',
    [
        ('2020-02-30', "date '2020-02-30' is not a real date (day is out of range for month)"),
        ('2020-13-01', "date '2020-13-01' is not a real date (month must be in 1..12)"),
        ('02/02/2020', "date '02/02/2020' is not a date in YYYY-MM-DD form (e.g. 2020-02-02)"),
        ('yesterday', "date 'yesterday' is not a date in YYYY-MM-DD form (e.g. 2020-02-02)"),
        ('20200202', "date '20200202' is not a date in YYYY-MM-DD form (e.g. 2020-02-02)"),
        ('', 'missing date (write it as YYYY-MM-DD, e.g. 2020-02-02)'),
    ],
)
def test_bad_dates(text, message):
    with pytest.raises(ValueError) as exc:
        r.parse_date(text)
    assert str(exc.value) == message


def test_good_date():
    assert r.parse_date(' 2024-02-29 ') == datetime.date(2024, 2, 29)


@pytest.mark.parametrize(
    'content, line, words',
    [
        ('', 1, 'missing title'),
        ('Title\n\n2020-02-02\nText\n', 2, 'missing name'),
        ('Title\nName\nsoon\nText\n', 3, "date 'soon'"),
        ('Title\nName\n2020-02-02\n\n\n', 4, 'missing feedback'),
        ('Title\nName\n', 3, 'missing date'),
    ],
)
def test_rejected_files_name_file_and_line(tmp_path, content, line, words):
    path = write(tmp_path, '003.txt', content)
    with pytest.raises(ParseError) as exc:
        r.parse_review(path)
    assert exc.value.line == line
    assert str(exc.value).startswith('%s line %d (' % (path, line))
    assert exc.value.field in ('title', 'name', 'date', 'feedback')
    assert words in exc.value.message


def test_non_utf8(tmp_path):
    path = write(tmp_path, '004.txt', b'Title\nJos\xe9\n2020-02-02\nText\n')
    with pytest.raises(ParseError) as exc:
        r.parse_review(path)
    assert exc.value.line == 2
    assert 'byte 0xe9 at byte offset 9' in str(exc.value)


def test_folder_good_and_bad(tmp_path):
    write(tmp_path, '1.txt', 'A\nB\n2020-01-01\nC\n')
    write(tmp_path, '2.txt', 'A\nB\n2020-02-31\nC\n')
    write(tmp_path, '11.txt', 'D\nE\n2020-01-02\nF\n')
    reviews, errors = r.parse_reviews(str(tmp_path))
    assert [x['stem'] for x in reviews] == ['1', '11']
    assert [(os.path.basename(e.path), e.line) for e in errors] == [('2.txt', 3)]
