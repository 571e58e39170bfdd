# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _descriptions as d


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return str(path)


# --- accepted forms ----------------------------------------------------------------------


def test_course_format(tmp_path):
    path = write(tmp_path, '001.txt', 'Apple\n500 lbs\nApples are sweet.\n')
    assert d.parse_description(path) == {
        'stem': '001',
        'file': path,
        'name': 'Apple',
        'weight': 500,
        'description': 'Apples are sweet.',
    }


def test_crlf_bom_trailing_spaces_and_blank_trailing_lines(tmp_path):
    data = b'\xef\xbb\xbfAvocado  \r\n200 lbs \r\nGreen and creamy.   \r\nGood on toast.\r\n\r\n  \r\n'
    product = d.parse_description(write(tmp_path, '002.txt', data))
    assert product['name'] == 'Avocado'
    assert product['weight'] == 200
    assert product['description'] == 'Green and creamy.\nGood on toast.'


def test_old_mac_cr_line_endings(tmp_path):
    product = d.parse_description(write(tmp_path, '003.txt', b'Banana\r75 lbs\rYellow.\r'))
    assert (product['name'], product['weight'], product['description']) == ('Banana', 75, 'Yellow.')


def test_description_spans_lines_and_may_be_empty(tmp_path):
    product = d.parse_description(write(tmp_path, '004.txt', 'Kiwi\n10 lbs\n\nLine one.\n\nLine three.\n'))
    assert product['description'] == 'Line one.\n\nLine three.'
    assert d.parse_description(write(tmp_path, '005.txt', 'Fig\n5 lbs\n'))['description'] == ''


@pytest.mark.parametrize(
    'text, pounds',
    [
        ('500 lbs', 500),
        ('500lbs', 500),
        ('500 LBS', 500),
        ('500 lb', 500),
        ('500 Lbs.', 500),
        ('1 pound', 1),
        ('20 pounds', 20),
        ('1,200 lbs', 1200),
        ('500.0 lbs', 500),
        ('  500   lbs  ', 500),
    ],
)
def test_weight_forms_accepted(text, pounds):
    assert d.parse_weight(text) == pounds


# --- rejected forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    'text, expected',
    [
        ('five hundred lbs', "weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')"),
        ('-5 lbs', 'weight must be a positive number of pounds, got -5'),
        ('0 lbs', 'weight must be a positive number of pounds, got 0'),
        ('500.5 lbs', 'weight must be a whole number of pounds, got 500.5'),
        ('500', "weight '500' has no unit (write it like '500 lbs')"),
        ('500 kg', "weight '500 kg' is not in pounds: unit 'kg' is not lbs (write it like '500 lbs')"),
        ('', "missing weight (write it like '500 lbs')"),
        ('5 0 lbs', "weight '5 0 lbs' is not a number of pounds (write it like '500 lbs')"),
    ],
)
def test_weight_forms_rejected(text, expected):
    with pytest.raises(ValueError) as exc:
        d.parse_weight(text)
    assert str(exc.value) == expected


def test_bad_weight_names_file_and_line(tmp_path):
    path = write(tmp_path, '006.txt', 'Cherry\nfive hundred lbs\nRed.\n')
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(path)
    assert exc.value.path == path
    assert exc.value.line == 2
    assert exc.value.field == 'weight'
    assert str(exc.value) == (
        "%s line 2 (weight): weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')" % path
    )


@pytest.mark.parametrize('content', ['', '\n500 lbs\nNo name.\n', '   \n500 lbs\n', '\xef\xbb\xbf'])
def test_missing_name(tmp_path, content):
    path = write(tmp_path, '007.txt', content.encode('latin-1') if content == '\xef\xbb\xbf' else content)
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(path)
    assert exc.value.line == 1
    assert 'missing name' in str(exc.value)


def test_missing_weight_line(tmp_path):
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(write(tmp_path, '008.txt', 'Date\n'))
    assert (exc.value.line, exc.value.message) == (2, "missing weight (write it like '500 lbs')")


def test_non_utf8_reports_line_and_byte_offset(tmp_path):
    # 'Caf\xe9' is Latin-1: 'Apple\n' (6 bytes) + '500 lbs\n' (8) + 'Caf' (3) puts the bad byte at offset 17
    data = b'Apple\n500 lbs\nCaf\xe9 style.\n'
    path = write(tmp_path, '009.txt', data)
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(path)
    assert exc.value.line == 3
    assert 'byte 0xe9 at byte offset 17' in str(exc.value)
    assert data[17] == 0xE9
    assert str(exc.value).startswith(path + ' line 3: is not UTF-8 text')


def test_non_utf8_offset_counts_the_bom(tmp_path):
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(write(tmp_path, '010.txt', b'\xef\xbb\xbf\xff'))
    assert 'byte 0xff at byte offset 3' in str(exc.value)
    assert exc.value.line == 1


def test_unreadable_file(tmp_path):
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(str(tmp_path / 'missing.txt'))
    assert exc.value.line is None
    assert 'cannot be read' in str(exc.value)


# --- folders -----------------------------------------------------------------------------


def test_folder_keeps_good_items_and_lists_bad_ones(tmp_path):
    write(tmp_path, '10.txt', 'Lemon\n30 lbs\nSour.\n')
    write(tmp_path, '2.txt', 'Grape\n40lbs\nSmall.\n')
    write(tmp_path, '3.txt', 'Melon\n-1 lbs\n')
    write(tmp_path, '4.txt', b'\xff\xfeO\x00')
    write(tmp_path, '._5.txt', b'\x00\x05\x16\x07')  # macOS resource fork: skipped
    write(tmp_path, '006.jpeg', b'\xff\xd8')  # not a description
    os.mkdir(str(tmp_path / 'sub.txt'))  # a directory, not a file
    products, errors = d.parse_descriptions(str(tmp_path))
    assert [p['name'] for p in products] == ['Grape', 'Lemon']  # natural order: 2 before 10
    assert [p['stem'] for p in products] == ['2', '10']  # the hook for the image check
    assert [(os.path.basename(e.path), e.line) for e in errors] == [('3.txt', 2), ('4.txt', 1)]
    assert errors[0].to_entry() == {
        'file': str(tmp_path / '3.txt'),
        'line': 2,
        'field': 'weight',
        'message': 'weight must be a positive number of pounds, got -1',
    }
    assert 'not UTF-8' in str(errors[1])


def test_folder_missing_raises(tmp_path):
    with pytest.raises(d.ParseError) as exc:
        d.parse_descriptions(str(tmp_path / 'nope'))
    assert 'cannot list the folder' in str(exc.value)


def test_empty_folder(tmp_path):
    assert d.parse_descriptions(str(tmp_path)) == ([], [])


@pytest.mark.parametrize(
    'content, line, field',
    [
        ('Ap\x07ple\n500 lbs\nRed.\n', 1, 'name'),
        ('Apple\n500 lbs\nRed\x1b[31m.\n', 3, 'description'),
        ('Apple\n500 lbs\n\nFirst.\nSecond\x00.\n', 5, 'description'),
    ],
)
def test_control_characters_are_refused_with_line_and_field(tmp_path, content, line, field):
    path = write(tmp_path, '008.txt', content)
    with pytest.raises(d.ParseError) as exc:
        d.parse_description(path)
    assert (exc.value.line, exc.value.field) == (line, field)
    assert 'control character U+00' in exc.value.message


def test_tabs_and_non_latin_text_are_kept(tmp_path):
    path = write(tmp_path, '009.txt', 'Яблоко 苹果\n500 lbs\nCol\tumns, Ελληνικά.\n'.encode('utf-8'))
    product = d.parse_description(path)
    assert product['name'] == 'Яблоко 苹果' and product['description'] == 'Col\tumns, Ελληνικά.'
