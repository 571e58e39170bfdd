# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: storeops.shop.build_report's sales summary vs the course's cars.py + reports.py.

    .venv/bin/python bench/bench_build_report.py [--cars 10000] [--rounds 2] [--no-ansible]

1. Generates ``--cars`` car sales records (seeded, so every run uses the same data) in the
   course's JSON format, with prices like ``$13724.05``.
2. Builds the monthly sales summary PDF both ways, each in a fresh Python process,
   interleaved, best of ``--rounds``:

   * course: ``cars.py`` (``process_data`` with ``locale.atof``, ``cars_dict_to_table`` building
     the table row by row, sorted by total sales as in the optional challenge) and
     ``reports.generate`` (``SimpleDocTemplate`` + one ``Table`` with a GRID style, every
     size measured by reportlab). No charts.
   * ours: ``_report.generate`` (exact decimal maths, pie + top-10 bar chart, a table with
     precomputed sizes laid out page by page), then the same compare-and-atomic-write the
     module does.

   Prints the time both ways, the ratio, and each process's peak RSS, pages and PDF size.
3. Unless ``--no-ansible``: one ``ansible localhost -m storeops.shop.build_report`` call on the
   same data, to show the end-to-end cost including Ansible's start-up.

Targets (issue 7): a 10,000-row report in under 5 s and under 300 MB. Not a test: nothing
fails on a slow machine. Bounded to well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, '.ansible', 'collections')

MAKES = {
    'Acura': ['TL', 'MDX', 'RSX', 'Integra'],
    'Audi': ['A4', 'A6', 'TT', 'Q7'],
    'BMW': ['3 Series', 'X5', 'M3'],
    'Chevrolet': ['Silverado 2500', 'Express 1500', 'Corvette', 'Impala'],
    'Dodge': ['Ram 3500', 'Viper', 'Durango'],
    'Ford': ['Focus', 'F150', 'Mustang', 'Taurus', 'Explorer'],
    'GMC': ['Sierra 1500', 'Yukon'],
    'Honda': ['Accord', 'Civic', 'Odyssey'],
    'Lamborghini': ['Murci\u00e9lago', 'Gallardo'],
    'Mercedes-Benz': ['SL-Class', 'E-Class', 'CLK-Class'],
    'Mercury': ['Sable', 'Grand Marquis'],
    'Porsche': ['911', 'Cayenne', 'Boxster'],
    'Toyota': ['Camry', 'Corolla', 'Land Cruiser', 'Tacoma'],
    'Volkswagen': ['Jetta', 'Passat', 'Golf'],
}
RARE = [
    'Saab 9-5',
    'Lotus Elise',
    'Maybach 57',
    'Isuzu Rodeo',
    'Plymouth Voyager',
    'Hummer H2',
    'Daewoo Lanos',
    'Suzuki Aerio',
    'Pontiac Aztek',
    'Oldsmobile Alero',
    'Geo Metro',
    'Eagle Talon',
]

COURSE = r'''
import json, locale, sys, time
from reportlab.platypus import SimpleDocTemplate, Paragraph, Spacer, Table
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib import colors

# --- reports.py (course Module 3) ---
def generate(filename, title, additional_info, table_data):
    styles = getSampleStyleSheet()
    report = SimpleDocTemplate(filename)
    report_title = Paragraph(title, styles["h1"])
    report_info = Paragraph(additional_info, styles["BodyText"])
    table_style = [('GRID', (0, 0), (-1, -1), 1, colors.black),
                   ('FONTNAME', (0, 0), (-1, 0), 'Helvetica-Bold'),
                   ('ALIGN', (0, 0), (-1, -1), 'CENTER')]
    report_table = Table(data=table_data, style=table_style, hAlign="LEFT")
    empty_line = Spacer(1, 20)
    report.build([report_title, empty_line, report_info, empty_line, report_table])

# --- cars.py (course Module 3, with the TODOs done the usual way) ---
def format_car(car):
    return "{} {} ({})".format(car["car_make"], car["car_model"], car["car_year"])

def process_data(data):
    try:
        locale.setlocale(locale.LC_ALL, 'en_US.UTF8')
    except locale.Error:
        pass   # the course code dies here on hosts without that locale; prices have no commas here
    max_revenue = {"revenue": 0}
    max_sales = {"total_sales": 0}
    years = {}
    for item in data:
        item_price = locale.atof(item["price"].strip("$"))
        item_revenue = item["total_sales"] * item_price
        if item_revenue > max_revenue["revenue"]:
            item["revenue"] = item_revenue
            max_revenue = item
        if item["total_sales"] > max_sales["total_sales"]:
            max_sales = item
        year = item["car"]["car_year"]
        years[year] = years.get(year, 0) + item["total_sales"]
    year = max(years, key=years.get)
    return [
        "The {} generated the most revenue: ${}".format(format_car(max_revenue["car"]), max_revenue["revenue"]),
        "The {} had the most sales: {}".format(format_car(max_sales["car"]), max_sales["total_sales"]),
        "The most popular year was {} with {} sales.".format(year, years[year]),
    ]

def cars_dict_to_table(car_data):
    table_data = [["ID", "Car", "Price", "Total Sales"]]
    for item in car_data:
        table_data.append([item["id"], format_car(item["car"]), item["price"], item["total_sales"]])
    return table_data

start, cpu_start = time.perf_counter(), time.process_time()
with open(sys.argv[1]) as json_file:
    data = json.load(json_file)
summary = process_data(data)
data.sort(key=lambda item: item["total_sales"], reverse=True)   # optional challenge 1
generate(sys.argv[2], "Sales summary for last month", "<br/>".join(summary), cars_dict_to_table(data))
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
'''

OURS = r'''
import sys, time
from ansible_collections.storeops.shop.plugins.module_utils import _fs, _report

start, cpu_start = time.perf_counter(), time.process_time()
report = _report.generate(dict(kind='sales_summary', src=sys.argv[1], dest=sys.argv[2], title=None,
                               date='2026-11-23', text=None, page_size='A4', columns=None, sort_by=None,
                               sort_order=None, skip_invalid=False))
if not _fs.same_content(sys.argv[2], report.data):
    _report.write_file(sys.argv[2], report.data)
summary = report.result['summary']['lines']
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
'''

FOOTER = r'''
import json as _json, resource as _resource
print(_json.dumps({'seconds': elapsed, 'cpu': cpu, 'peak_mb': _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                   'summary': summary}))
'''


def make_data(count, seed=20261123):
    rng = random.Random(seed)
    makes = list(MAKES)
    records = []
    for number in range(1, count + 1):
        if rng.random() < 0.03:
            make, model = rng.choice(RARE).split(' ', 1)
            sales = rng.randint(0, 40)
        else:
            make = rng.choice(makes)
            model = rng.choice(MAKES[make])
            sales = rng.randint(0, 1500)
        records.append(
            {
                'id': number,
                'car': {'car_make': make, 'car_model': model, 'car_year': rng.randint(1990, 2012)},
                'price': '$%d.%02d' % (rng.randint(2000, 90000), rng.randint(0, 99)),
                'total_sales': sales,
            }
        )
    return records


def run(code, src, dest):
    env = dict(os.environ, PYTHONPATH=COLLECTIONS + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out = subprocess.run(
        [sys.executable, '-c', code + FOOTER, src, dest], env=env, check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    from pypdf import PdfReader

    result['pages'] = len(PdfReader(dest).pages)
    result['size_kb'] = os.path.getsize(dest) / 1024.0
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--cars', type=int, default=10000)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--no-ansible', action='store_true')
    parser.add_argument('--workdir', help='keep the data and PDFs here (default: a temporary directory, removed)')
    args = parser.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix='bench-build-report-')
    os.makedirs(work, exist_ok=True)
    try:
        bench(args, work)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def bench(args, work):
    src = os.path.join(work, 'car_sales.json')
    with open(src, 'w', encoding='utf-8') as handle:
        json.dump(make_data(args.cars), handle, ensure_ascii=False)
    print('data: %d cars in %s (%.1f MB)' % (args.cars, src, os.path.getsize(src) / 1e6))

    best = {}
    for round_number in range(args.rounds):
        for name, code in (('course', COURSE), ('ours', OURS)):
            dest = os.path.join(work, '%s.pdf' % name)
            if os.path.exists(dest):
                os.unlink(dest)  # both build from scratch every round
            result = run(code, src, dest)
            print(
                '  round %d %-6s %6.2f s (cpu %5.2f s)  peak %5.0f MB'
                % (round_number + 1, name, result['seconds'], result['cpu'], result['peak_mb'])
            )
            if name not in best or result['seconds'] < best[name]['seconds']:
                best[name] = result

    course, ours = best['course'], best['ours']
    print()
    print(
        '%-46s %8s %8s %9s %6s %9s'
        % ('sales summary, %d cars (best of %d)' % (args.cars, args.rounds), 'time', 'cpu', 'peak RSS', 'pages', 'PDF')
    )
    row = '%-46s %7.2fs %7.2fs %6.0f MB %6d %6.0f KB'
    print(
        row
        % (
            'course: cars.py + reports.py (table only)',
            course['seconds'],
            course['cpu'],
            course['peak_mb'],
            course['pages'],
            course['size_kb'],
        )
    )
    print(
        row
        % (
            'ours: _report.generate (+ pie, bar chart)',
            ours['seconds'],
            ours['cpu'],
            ours['peak_mb'],
            ours['pages'],
            ours['size_kb'],
        )
    )
    print(
        'ratio course/ours: %.1fx faster (wall), %.1fx less cpu'
        % (course['seconds'] / ours['seconds'], course['cpu'] / ours['cpu'])
    )
    print('load average during the run: %.1f (on %d cores)' % (os.getloadavg()[0], os.cpu_count()))
    verdict = ['met' if ok else 'MISSED' for ok in (ours['seconds'] < 5, ours['cpu'] < 5, ours['peak_mb'] < 300)]
    print('targets (issue 7, for 10,000 cars): < 5 s -> %s wall, %s cpu; < 300 MB -> %s' % tuple(verdict))
    print()
    print('course summary: ' + ' | '.join(course['summary']))
    print('our summary:    ' + ' | '.join(ours['summary']))

    if not args.no_ansible:
        dest = os.path.join(work, 'module.pdf')
        command = [
            os.path.join(ROOT, '.venv', 'bin', 'ansible'),
            'localhost',
            '-m',
            'storeops.shop.build_report',
            '-a',
            'kind=sales_summary src=%s dest=%s date=2026-11-23' % (src, dest),
        ]
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
        for label in ('first run', 'second run (unchanged)'):
            start = time.perf_counter()
            out = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
            print(
                'ansible localhost -m storeops.shop.build_report, %-22s %5.2f s  %s'
                % (label + ':', time.perf_counter() - start, out.split('=>')[0].strip())
            )


if __name__ == '__main__':
    main()
