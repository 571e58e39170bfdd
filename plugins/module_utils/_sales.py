# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Car sales maths for the monthly sales summary (course Module 3, ``cars.py``).

Input: a JSON list of records ``{id, car: {car_make, car_model, car_year}, price, total_sales}``
with prices like ``"$13724.05"`` or ``"$1,234.56"``.

* Prices are parsed without ``locale`` (the course calls ``locale.setlocale``, which fails on
  hosts without ``en_US.UTF8``) into :class:`decimal.Decimal`, so revenue is exact.
* Revenue of a record = price * total_sales. The most popular year is the ``car_year``
  with the largest *sum* of ``total_sales``.
* **Ties** are broken by input order, everywhere: the record (or, for years and makes, the
  value) that appears first in the data wins, and sorting is stable, so records with
  equal keys keep their input order. The same data always gives the same report.
* Bad data raises :class:`SalesDataError` listing every bad record by index and id.
"""

from __future__ import annotations

import decimal
import json
import math
import re

from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry

CENT = decimal.Decimal('0.01')
_PRICE = re.compile(r'^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$')
NOT_WRITTEN = 'the sales data cannot be used, no report was written'
SORT_KEYS = ('total_sales', 'revenue', 'price', 'id', 'car')


class SalesDataError(JobError):
    """The sales data cannot be used; ``errors`` lists the bad records (``_job.error_entry``)."""


class CarSale(object):
    """One validated sales record."""

    __slots__ = ('index', 'id', 'make', 'model', 'year', 'price', 'total_sales', 'revenue', 'label')

    def __init__(self, index, record_id, make, model, year, price, total_sales):
        self.index = index
        self.id = record_id
        self.make = make
        self.model = model
        self.year = year
        self.price = price
        self.total_sales = total_sales
        self.revenue = price * total_sales
        self.label = '%s %s (%s)' % (make, model, year)

    def to_dict(self):
        return {
            'id': self.id,
            'car': self.label,
            'car_make': self.make,
            'car_model': self.model,
            'car_year': self.year,
            'price': money_value(self.price),
            'total_sales': self.total_sales,
            'revenue': money_value(self.revenue),
        }


def parse_price(value):
    """``"$1,234.56"`` / ``"$13724.05"`` / ``1234.5`` -> ``Decimal``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError('price %r is not a price' % (value,))
    if isinstance(value, int):
        price = decimal.Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError('price %r is not a price' % (value,))
        price = decimal.Decimal(repr(value))
    elif isinstance(value, str):
        match = _PRICE.match(value.strip())
        if not match:
            raise ValueError("price %r is not a price like '$13724.05' or '$1,234.56'" % (value,))
        price = decimal.Decimal(match.group(1).replace(',', '') + (match.group(2) or ''))
    else:
        raise ValueError("price %r is not a price like '$13724.05'" % (value,))
    if price < 0:
        raise ValueError('price %r is negative' % (value,))
    return price


def quantize(amount):
    """Round money to cents, half up (the way people round money)."""
    return amount.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def format_money(amount):
    """``Decimal('1234567.5')`` -> ``'$1,234,567.50'`` (no locale involved)."""
    return '${:,.2f}'.format(quantize(amount))


def money_value(amount):
    """Money as a JSON-friendly float rounded to cents."""
    return float(quantize(amount))


def _whole_number(value, what):
    if isinstance(value, bool):
        raise ValueError('%s %r is not a whole number' % (what, value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError('%s %r is not a whole number' % (what, value))


def _text(value, what):
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise ValueError('%s %r is not text' % (what, value))
    text = str(value).strip()
    if not text:
        raise ValueError('%s is empty' % what)
    return text


def _record(index, record):
    """Validate one record; returns CarSale or raises ValueError (message without the prefix)."""
    if not isinstance(record, dict):
        raise ValueError('expected an object with id, car, price and total_sales, got %s' % _json_type(record))
    missing = [field for field in ('id', 'car', 'price', 'total_sales') if field not in record]
    car = record.get('car')
    if 'car' in record:
        if not isinstance(car, dict):
            raise ValueError(
                "field 'car' must be an object with car_make, car_model and car_year, got %s" % _json_type(car)
            )
        missing.extend('car.%s' % field for field in ('car_make', 'car_model', 'car_year') if field not in car)
    if missing:
        raise ValueError(
            'missing field%s %s' % ('s' if len(missing) > 1 else '', ', '.join("'%s'" % m for m in missing))
        )
    record_id = record['id']
    if isinstance(record_id, (dict, list)) or record_id is None or isinstance(record_id, bool):
        raise ValueError('id %r is not a number or text' % (record_id,))
    price = parse_price(record['price'])
    total_sales = _whole_number(record['total_sales'], 'total_sales')
    if total_sales < 0:
        raise ValueError('total_sales %r is negative' % (record['total_sales'],))
    year = _whole_number(car['car_year'], 'car.car_year')
    return CarSale(
        index,
        record_id,
        _text(car['car_make'], 'car.car_make'),
        _text(car['car_model'], 'car.car_model'),
        year,
        price,
        total_sales,
    )


def _json_type(value):
    return {dict: 'an object', list: 'a list', str: 'a string', bool: 'a boolean', type(None): 'null'}.get(
        type(value), 'a number'
    )


def _describe(index, record):
    if isinstance(record, dict) and 'id' in record:
        return 'record %d (id %s)' % (index, json.dumps(record['id'], ensure_ascii=False, default=str))
    return 'record %d' % index


def validate(records, source='src'):
    """Validate a list of raw records and return a list of :class:`CarSale`.

    Raises :class:`SalesDataError` if the list is empty or any record is bad (every bad record
    is an entry of its ``errors``, its index and id in ``field``; ``source`` is the file).
    """
    where = None if source == 'src' else source
    if not isinstance(records, list):
        raise SalesDataError(
            NOT_WRITTEN,
            [error_entry('expected a JSON list of car sales records, got %s' % _json_type(records), file=where)],
        )
    if not records:
        raise SalesDataError(
            NOT_WRITTEN,
            [error_entry('the list of car sales records is empty; refusing to build an empty report', file=where)],
        )
    cars = []
    problems = []
    for index, record in enumerate(records):
        try:
            cars.append(_record(index, record))
        except ValueError as exc:
            problems.append(error_entry(str(exc), file=where, field=_describe(index, record)))
    if problems:
        raise SalesDataError(
            '%d of %d car sales records are invalid, no report was written' % (len(problems), len(records)), problems
        )
    return cars


def loads(data, source='src'):
    """Parse JSON text (bytes or str) and :func:`validate` it."""
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8-sig')
        except UnicodeDecodeError as exc:
            raise SalesDataError(
                NOT_WRITTEN,
                [
                    error_entry(
                        'is not UTF-8 text: byte 0x%02x at byte offset %d cannot be '
                        'decoded' % (data[exc.start], exc.start),
                        file=source,
                    )
                ],
            )
    try:
        records = json.loads(data, parse_constant=_reject_constant)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise SalesDataError(
                NOT_WRITTEN,
                [
                    error_entry(
                        'is not valid JSON: %s at line %d, column %d' % (exc.msg, exc.lineno, exc.colno),
                        file=source,
                        line=exc.lineno,
                    )
                ],
            )
        raise SalesDataError(NOT_WRITTEN, [error_entry('is not valid JSON: %s' % exc, file=source)])
    return validate(records, source)


def _reject_constant(name):
    raise ValueError('%s is not allowed in JSON' % name)


def load(path):
    """Read and validate a car sales JSON file."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        raise SalesDataError(NOT_WRITTEN, [error_entry('cannot be read: %s' % (exc.strerror or exc), file=path)])
    return loads(data, path)


def _first_max(items, key):
    """The first item with the largest key (``max`` keeps the first of equal items)."""
    return max(items, key=key)


def summarize(cars):
    """The sales summary: most revenue, most sales, most popular year, and the lines to print.

    Ties: the first record in input order wins; for the year, the year whose first record comes
    first in the input wins.
    """
    best_revenue = _first_max(cars, key=lambda car: car.revenue)
    best_sales = _first_max(cars, key=lambda car: car.total_sales)
    by_year = {}
    for car in cars:
        by_year[car.year] = by_year.get(car.year, 0) + car.total_sales
    year, year_sales = _first_max(by_year.items(), key=lambda item: item[1])
    lines = [
        'The %s generated the most revenue: %s' % (best_revenue.label, format_money(best_revenue.revenue)),
        'The %s had the most sales: %d' % (best_sales.label, best_sales.total_sales),
        'The most popular year was %s with %d sales.' % (year, year_sales),
    ]
    total_revenue = sum((car.revenue for car in cars), decimal.Decimal(0))
    return {
        'most_revenue': best_revenue.to_dict(),
        'most_sales': best_sales.to_dict(),
        'most_popular_year': {'year': year, 'total_sales': year_sales},
        'cars': len(cars),
        'total_sales': sum(car.total_sales for car in cars),
        'total_revenue': money_value(total_revenue),
        'lines': lines,
    }


def sort_cars(cars, sort_by='total_sales', order=None):
    """Sorted copy of ``cars``. ``order`` defaults to ``desc`` for numbers, ``asc`` for id/car.

    The sort is stable: ties keep input order whichever direction is asked for.
    """
    if sort_by not in SORT_KEYS:
        raise ValueError('sort_by must be one of %s for the sales summary, got %r' % (', '.join(SORT_KEYS), sort_by))
    if order is None:
        order = 'asc' if sort_by in ('id', 'car') else 'desc'
    if sort_by == 'id':
        # numbers before text, numbers numerically
        def key(car):
            return (0, car.id, '') if isinstance(car.id, (int, float)) else (1, 0, str(car.id))
    elif sort_by == 'car':

        def key(car):
            return car.label.casefold()
    else:

        def key(car):
            return getattr(car, sort_by)

    if order == 'asc':
        return sorted(cars, key=key)
    # reverse=True keeps equal items in input order too (Python's sort is stable both ways)
    return sorted(cars, key=key, reverse=True)


def sales_by_make(cars, max_slices=10, min_share=0.03, other='Other'):
    """Total sales per make for the pie chart, biggest first, small makes grouped.

    A make gets its own slice if it has at least ``min_share`` of all sales and is among the
    ``max_slices - 1`` biggest; the rest are summed into ``other`` (unless that would be a
    single make, which then keeps its own name). Makes with no sales are left out. Ties in
    size keep the order in which the makes first appear.
    """
    totals = {}
    for car in cars:
        totals[car.make] = totals.get(car.make, 0) + car.total_sales
    ranked = sorted(((make, sales) for make, sales in totals.items() if sales > 0), key=lambda item: -item[1])
    grand_total = sum(sales for _make, sales in ranked)
    if not grand_total:
        return []
    if len(ranked) <= max_slices and all(sales >= min_share * grand_total for _m, sales in ranked):
        return ranked
    keep = [(make, sales) for make, sales in ranked[: max_slices - 1] if sales >= min_share * grand_total]
    rest = ranked[len(keep) :]
    if len(rest) == 1:
        return keep + rest
    return keep + [(other, sum(sales for _make, sales in rest))]


def top_by_revenue(cars, count=10):
    """The ``count`` cars with the most revenue, biggest first (ties: input order)."""
    return sorted(cars, key=lambda car: car.revenue, reverse=True)[:count]


def table_rows(cars):
    """Rows for the report table: ID, Car, Price, Total Sales (as text)."""
    return [[str(car.id), car.label, format_money(car.price), str(car.total_sales)] for car in cars]


TABLE_HEADER = ['ID', 'Car', 'Price', 'Total Sales']
