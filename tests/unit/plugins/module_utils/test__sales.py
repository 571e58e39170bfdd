# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _sales as s


def rec(record_id, make, model, year, price, sales):
    return {
        'id': record_id,
        'car': {'car_make': make, 'car_model': model, 'car_year': year},
        'price': price,
        'total_sales': sales,
    }


# Hand-computed data set with ties:
#   id 1 Ford Focus 2005      $1,000.00 x 10 = 10,000.00
#   id 2 Acura TL 2007        $2,500.50 x  4 = 10,002.00  <- most revenue (tie with id 3, first wins)
#   id 3 Ford Mustang 2007    $5,001.00 x  2 = 10,002.00
#   id 4 Porsche 911 2005       $100.25 x 10 =  1,002.50  (ties id 1 on sales, id 1 first wins)
#   id 5 Toyota Camry 2010    $13724.05 x  0 =      0.00
# years: 2005 -> 20, 2007 -> 6, 2010 -> 0
DATA = [
    rec(1, 'Ford', 'Focus', 2005, '$1,000.00', 10),
    rec(2, 'Acura', 'TL', 2007, '$2,500.50', 4),
    rec(3, 'Ford', 'Mustang', 2007, '$5001', 2),
    rec(4, 'Porsche', '911', 2005, '$100.25', 10),
    rec(5, 'Toyota', 'Camry', 2010, '$13724.05', 0),
]


@pytest.mark.parametrize(
    'text, value',
    [
        ('$13724.05', '13724.05'),
        ('$1,234.56', '1234.56'),
        ('1234', '1234'),
        (' $1,234,567.8 ', '1234567.8'),
        ('$0.99', '0.99'),
        ('$ 12', '12'),
        (12, '12'),
        (12.5, '12.5'),
        (0.1, '0.1'),
    ],
)
def test_parse_price(text, value):
    assert s.parse_price(text) == Decimal(value)


@pytest.mark.parametrize(
    'text',
    [
        'abc',
        '$',
        '',
        '$1,23.45',
        '\u20ac14459,15',
        '14459,15',
        '-$5',
        '$-5',
        '$1.2.3',
        True,
        None,
        float('nan'),
        [],
        -1,
    ],
)
def test_parse_price_rejects(text):
    with pytest.raises(ValueError):
        s.parse_price(text)


def test_money_formatting_has_no_locale_dependency(monkeypatch):
    import locale

    monkeypatch.setattr(locale, 'localeconv', lambda: {'thousands_sep': '.', 'decimal_point': ','})
    assert s.format_money(Decimal('1234567.005')) == '$1,234,567.01'  # half up, not banker's rounding
    assert s.format_money(Decimal('0')) == '$0.00'
    assert s.format_money(Decimal('999.994')) == '$999.99'


def test_summary_hand_computed_with_ties():
    cars = s.validate(json.loads(json.dumps(DATA)))
    summary = s.summarize(cars)
    assert summary['lines'] == [
        'The Acura TL (2007) generated the most revenue: $10,002.00',
        'The Ford Focus (2005) had the most sales: 10',
        'The most popular year was 2005 with 20 sales.',
    ]
    assert summary['most_revenue']['id'] == 2
    assert summary['most_revenue']['revenue'] == 10002.0
    assert summary['most_sales']['id'] == 1
    assert summary['most_popular_year'] == {'year': 2005, 'total_sales': 20}
    assert summary['total_sales'] == 26
    assert summary['total_revenue'] == 31006.5
    assert summary['cars'] == 5


def test_year_tie_goes_to_the_year_seen_first():
    cars = s.validate(
        [rec(1, 'A', 'x', 2007, '$1', 5), rec(2, 'B', 'y', 2005, '$1', 3), rec(3, 'C', 'z', 2005, '$1', 2)]
    )
    assert s.summarize(cars)['lines'][2] == 'The most popular year was 2007 with 5 sales.'


def test_revenue_is_exact():
    # 0.1 * 3 is 0.30000000000000004 in floats
    cars = s.validate([rec(1, 'A', 'B', 2000, '$0.10', 3)])
    assert cars[0].revenue == Decimal('0.30')
    assert s.summarize(cars)['lines'][0] == 'The A B (2000) generated the most revenue: $0.30'


def test_sort_default_is_total_sales_desc_with_stable_ties():
    cars = s.validate(DATA)
    assert [c.id for c in s.sort_cars(cars)] == [1, 4, 2, 3, 5]
    assert [c.id for c in s.sort_cars(cars, 'total_sales', 'asc')] == [5, 3, 2, 1, 4]
    assert [c.id for c in s.sort_cars(cars, 'revenue')] == [2, 3, 1, 4, 5]
    assert [c.id for c in s.sort_cars(cars, 'car')] == [2, 1, 3, 4, 5]
    assert [c.id for c in s.sort_cars(cars, 'id', 'desc')] == [5, 4, 3, 2, 1]
    with pytest.raises(ValueError, match='sort_by must be one of'):
        s.sort_cars(cars, 'colour')


def test_table_rows():
    cars = s.validate(DATA)
    assert s.TABLE_HEADER == ['ID', 'Car', 'Price', 'Total Sales']
    assert s.table_rows(cars)[0] == ['1', 'Ford Focus (2005)', '$1,000.00', '10']
    assert s.table_rows(cars)[4] == ['5', 'Toyota Camry (2010)', '$13,724.05', '0']


def test_sales_by_make_groups_small_makes():
    records = [rec(i, 'Big%d' % i, 'm', 2000, '$1', 100) for i in range(12)]
    records += [
        rec(20, 'Tiny1', 'm', 2000, '$1', 1),
        rec(21, 'Tiny2', 'm', 2000, '$1', 2),
        rec(22, 'Zero', 'm', 2000, '$1', 0),
    ]
    slices = s.sales_by_make(s.validate(records))
    assert len(slices) == 10
    assert slices[:9] == [('Big%d' % i, 100) for i in range(9)]
    assert slices[9] == ('Other', 300 + 3)


def test_sales_by_make_small_but_few():
    cars = s.validate(
        [rec(1, 'Ford', 'm', 2000, '$1', 10), rec(2, 'Kia', 'm', 2000, '$1', 10), rec(3, 'Ford', 'n', 2001, '$1', 5)]
    )
    assert s.sales_by_make(cars) == [('Ford', 15), ('Kia', 10)]
    # a single small make is shown by name rather than as "Other"
    cars = s.validate([rec(1, 'Ford', 'm', 2000, '$1', 1000), rec(2, 'Kia', 'm', 2000, '$1', 1)])
    assert s.sales_by_make(cars) == [('Ford', 1000), ('Kia', 1)]
    assert s.sales_by_make(s.validate([rec(1, 'Ford', 'm', 2000, '$1', 0)])) == []


def test_top_by_revenue():
    assert [c.id for c in s.top_by_revenue(s.validate(DATA), 3)] == [2, 3, 1]


# --- bad input -----------------------------------------------------------------------------


def test_missing_field_and_bad_price_name_index_and_id():
    records = json.loads(json.dumps(DATA))
    del records[2]['price']
    records[3]['price'] = 'call us'
    del records[4]['car']['car_model']
    with pytest.raises(s.SalesDataError) as exc:
        s.validate(records, 'cars.json')
    assert exc.value.errors == [
        {'file': 'cars.json', 'line': None, 'field': 'record 2 (id 3)', 'message': "missing field 'price'"},
        {
            'file': 'cars.json',
            'line': None,
            'field': 'record 3 (id 4)',
            'message': "price 'call us' is not a price like '$13724.05' or '$1,234.56'",
        },
        {'file': 'cars.json', 'line': None, 'field': 'record 4 (id 5)', 'message': "missing field 'car.car_model'"},
    ]
    assert str(exc.value).startswith(
        "3 of 5 car sales records are invalid, no report was written: cars.json (record 2 (id 3)): "
        "missing field 'price'"
    )


@pytest.mark.parametrize(
    'record, problem',
    [
        ('x', 'record 0: expected an object with id, car, price and total_sales, got a string'),
        (
            {'car': {}, 'price': '$1', 'total_sales': 1},
            "record 0: missing fields 'id', 'car.car_make', 'car.car_model', 'car.car_year'",
        ),
        (
            dict(rec(7, 'A', 'B', 2000, '$1', 1), car='A B'),
            "record 0 (id 7): field 'car' must be an object with car_make, car_model and car_year, got a string",
        ),
        (rec(7, 'A', 'B', 2000, '$1', -2), 'record 0 (id 7): total_sales -2 is negative'),
        (rec(7, 'A', 'B', 2000, '$1', 'many'), "record 0 (id 7): total_sales 'many' is not a whole number"),
        (rec(7, 'A', 'B', 'new', '$1', 1), "record 0 (id 7): car.car_year 'new' is not a whole number"),
        (rec('x-7', '', 'B', 2000, '$1', 1), 'record 0 (id "x-7"): car.car_make is empty'),
    ],
)
def test_bad_records(record, problem):
    with pytest.raises(s.SalesDataError) as exc:
        s.validate([record])
    assert ['%s: %s' % (e['field'], e['message']) for e in exc.value.errors] == [problem]
    assert exc.value.errors[0]['file'] is None


def test_many_bad_records_are_summarised():
    with pytest.raises(s.SalesDataError) as exc:
        s.validate([{}] * 30)
    assert len(exc.value.errors) == 30
    assert str(exc.value).endswith('... and 20 more (see errors)')


def test_empty_list_and_not_a_list():
    with pytest.raises(s.SalesDataError, match='the list of car sales records is empty'):
        s.validate([])
    with pytest.raises(s.SalesDataError, match='expected a JSON list of car sales records, got an object'):
        s.loads('{"id": 1}')


def test_malformed_json_reports_line_and_column():
    with pytest.raises(s.SalesDataError) as exc:
        s.loads('[\n  {"id": 1,\n   "car" {}}\n]', 'cars.json')
    assert exc.value.errors == [
        {
            'file': 'cars.json',
            'line': 3,
            'field': None,
            'message': "is not valid JSON: Expecting ':' delimiter at line 3, column 10",
        }
    ]


def test_nan_is_not_json():
    with pytest.raises(s.SalesDataError, match='NaN is not allowed'):
        s.loads(
            '[{"id": 1, "car": {"car_make": "A", "car_model": "B", "car_year": 2000}, "price": NaN, "total_sales": 1}]'
        )


def test_load_file(tmp_path):
    path = tmp_path / 'cars.json'
    path.write_bytes(b'\xef\xbb\xbf' + json.dumps(DATA).encode())
    assert len(s.load(str(path))) == 5
    with pytest.raises(s.SalesDataError, match='nope.json: cannot be read: No such file or directory'):
        s.load(str(tmp_path / 'nope.json'))
    path.write_bytes(b'[\xff]')
    with pytest.raises(s.SalesDataError, match='is not UTF-8 text: byte 0xff at byte offset 1'):
        s.load(str(path))
