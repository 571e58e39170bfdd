# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: build_report
short_description: Build the store's reports (PDF processed update, car sales summary and tables; the monthly CSV report)
version_added: 1.0.0
author: storeops.shop team (@storeops)
description:
  - Builds a PDF report with reportlab and writes it to O(dest).
  - V(processed_update) is the report sent to a supplier after a catalog upload, titled
    C(Processed Update on November 23, 2026), with a C(name:) and C(weight:) block per product. Give it what
    M(storeops.shop.catalog_upload) returned, and it lists what is really on the site, with the products the site
    refused in a section of their own; or give it a folder of supplier descriptions (the same parser as
    M(storeops.shop.catalog_upload)).
  - V(sales_summary) is the monthly car sales report, with a summary paragraph (most revenue, most sales,
    most popular year), a pie chart of total sales by make, a bar chart of the top 10 cars by revenue and a
    table of every car. The summary lines are also returned, for a mail body.
  - V(table) is a generic titled table built from a list of rows, a JSON file or a CSV file.
  - V(csv_aggregate) is the monthly report built from a folder of daily CSV files (see O(group_by)). It writes no
    PDF but four files into the O(dest) folder, C(combined.csv) (the month's rows under the one header),
    C(final_report.csv) (one row per value of the O(group_by) column with its C(count), and C(total_<sum_column>)
    when O(sum_column) is set), C(final_report.html) (that aggregate as an HTML table with a total row) and
    C(final_chart.html) (bar charts of the counts and the sums in inline SVG, readable without JavaScript). The
    pages link to each other with relative links, so they can be published together, for example under
    C(2026/dec/).
  - For V(csv_aggregate) the daily files are the C(*.csv) files directly in O(src) (not in subfolders; hidden
    files skipped), read in natural name order (C(day-2.csv) before C(day-10.csv)) with Python's C(csv) module,
    so values with quoted commas, quotes and newlines, a UTF-8 byte order mark and CRLF line ends all work; blank
    lines are skipped. The header that most files share is the header (ties go to the first file).
  - >-
    For V(csv_aggregate), bad input does not stop the good rows. Each problem is listed in RV(errors) with its file
    and line (and the column in C(field)): a file with another header, a file that is not UTF-8 (with the line and
    byte offset of the first bad byte) and an empty file are left out as a whole; a row with the wrong number of
    fields, a malformed quote, or a value of the O(sum_column) that is not a number is left out alone. The report
    files are still written from the good rows, and then the task fails listing the problems, so a playbook
    stops before it publishes them (with O(skip_invalid=true) the task succeeds and warns instead). With no good
    row at all (an empty folder, only bad files) nothing is written.
  - The PDF is built in memory in reportlab's invariant mode, so the same input and options always give the
    same bytes. When O(dest) already holds exactly those bytes nothing is written and the task reports
    no change; otherwise the file is replaced atomically (temporary file, then rename).
  - The V(csv_aggregate) files are built the same way, from the input and the options only (no clock, groups in
    a fixed order), and each is written only when its bytes differ, atomically.
  - When the input is invalid the task fails with a message naming the file, line, record or row at fault,
    and O(dest) is left as it was.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - storeops.shop.attributes.idempotent
  - storeops.shop.attributes.files
  - storeops.shop.job_errors
attributes:
  check_mode:
    support: full
    details: The report is built in memory and compared with O(dest); nothing is written (no folder created).
  diff_mode:
    support: partial
    details:
      - Shows the SHA-256 checksum and size of the old and the new PDF, and file attribute changes.
        The PDF content itself is not diffed.
      - For O(kind=csv_aggregate), one diff per changed file, the text of the file when it is at most 64 KiB
        (usually C(final_report.csv) and the HTML pages), otherwise its checksum and size.
  platform:
    platforms: posix
  idempotent:
    support: full
    details:
      - The same input and options give the same bytes, so a second run writes nothing. A report that shows today's
        date (O(date) not set) changes once a day.
  safe_file_operations:
    support: full
requirements:
  - reportlab >= 4.0 (on the host that runs the module), for every kind but V(csv_aggregate)
  - boto3 (on the host that runs the module), only for O(src=s3://bucket/prefix)
options:
  kind:
    description:
      - Which report to build.
    type: str
    required: true
    choices: [processed_update, sales_summary, table, csv_aggregate]
  src:
    description:
      - The data.
      - For O(kind=processed_update), the registered result of a M(storeops.shop.catalog_upload) task (its
        RV(storeops.shop.catalog_upload#module:products) and RV(storeops.shop.catalog_upload#module:errors)), or the
        path of a folder of supplier descriptions C(NNN.txt) (line 1 the name, line 2 the weight such as C(500 lbs),
        then the description), listed in natural name order (C(2.txt) before C(10.txt)).
      - >-
        For O(kind=sales_summary), the path of a JSON file, or the list itself, of records
        C({id, car: {car_make, car_model, car_year}, price, total_sales}) with prices such as C($13724.05)
        or C($1,234.56).
      - For O(kind=table), a list of lists (the first one is the header unless O(columns) is set), a list of
        dictionaries, or the path of a C(.json) file holding such a list or of a C(.csv) file.
      - For O(kind=csv_aggregate), the path of the folder of daily CSV files, all with the same header line; or
        V(s3://bucket/prefix), the C(*.csv) objects directly under that prefix of an S3 or S3-compatible bucket
        (listed with pagination, as the course reads them; see O(s3)). RV(inputs) and RV(errors) then name the
        objects' C(s3://) URLs.
    type: raw
    required: true
  dest:
    description:
      - Where to write the PDF. Its directory must exist.
      - For O(kind=csv_aggregate), the folder the four report files go to (created, with its parents, when it does not
        exist). It must not be O(src). Other files in it are left alone. O(mode), O(owner) and O(group) then apply
        to this folder; the files get the default mode for a new file (or keep the mode of the file they replace).
    type: path
    required: true
  title:
    description:
      - The report title. C({date}) in it is replaced by O(date), written like C(November 23, 2026).
      - Defaults to C(Processed Update on {date}) for O(kind=processed_update), C(Sales summary for last month)
        for O(kind=sales_summary), C(Report) for O(kind=table) and C(Report by {group_by}) for
        O(kind=csv_aggregate), where C({group_by}) is replaced by the O(group_by) column's name.
    type: str
  date:
    description:
      - The report date, as C(YYYY-MM-DD). It is printed in English (C(November 23, 2026)) whatever the locale.
      - Defaults to today on the host that runs the module, so a report that shows the date changes (and
        the task reports a change) once a day. Set it for reproducible reports.
      - For O(kind=csv_aggregate) the date is used only for C({date}) in O(title); the report files hold no
        other date or time than what is in the daily files.
    type: str
  text:
    description:
      - Optional text printed under the title (for O(kind=csv_aggregate), on both HTML pages). A blank line starts a
        new paragraph.
    type: str
  page_size:
    description:
      - Paper size (portrait). Not used by O(kind=csv_aggregate).
    type: str
    choices: [A4, letter]
    default: A4
  columns:
    description:
      - Only for O(kind=table).
      - For rows that are dictionaries, the keys to show, in order (default every key, in the order they
        first appear). For rows that are lists, the header labels; every row is then data.
    type: list
    elements: str
  sort_by:
    description:
      - How to sort the table, for O(kind=sales_summary), O(kind=table) and O(kind=csv_aggregate). Sorting is
        stable, so rows with equal values keep the order they have in O(src).
      - For O(kind=sales_summary), one of V(total_sales) (the default), V(revenue), V(price), V(id) or V(car).
      - For O(kind=table), a column name (case-insensitive). A column of numbers (also C($1,234.56)) is sorted
        numerically, otherwise alphabetically; empty cells go last. Default is the order of O(src).
      - For O(kind=csv_aggregate), how the groups are ordered in the aggregate, the table and the chart, by the
        O(group_by) column's name (the default, by value, case-insensitive), V(count), or V(sum) (also the
        O(sum_column) name). Equal counts or sums are ordered by value.
    type: str
  sort_order:
    description:
      - V(asc) or V(desc). Defaults to V(desc) for the numeric O(kind=sales_summary) keys and for V(count) and
        V(sum) with O(kind=csv_aggregate), and V(asc) otherwise.
    type: str
    choices: [asc, desc]
  skip_invalid:
    description:
      - Only for O(kind=processed_update) with a descriptions folder as O(src), and for O(kind=csv_aggregate).
      - By default one invalid description file fails the task (listing every bad file in RV(errors)) and no PDF is
        written. With V(true) the report is built from the valid files, the task warns with the number and names of
        the files left out, and returns them in RV(left_out).
      - For O(kind=csv_aggregate) the report files are written from the good rows either way. By default the task
        then fails listing every problem in RV(errors); with V(true) it succeeds, warns with the number of problems
        and the files they are in, and returns them in RV(left_out).
    type: bool
    default: false
  group_by:
    description:
      - Only for O(kind=csv_aggregate), and required with it.
      - The column of the daily CSV files to group the rows by, as named in the header (the exact name, or the one
        column whose name matches ignoring case). Values are compared after stripping surrounding spaces, and
        case matters (C(Fruit) and C(fruit) are two groups).
    type: str
  sum_column:
    description:
      - Only for O(kind=csv_aggregate).
      - A numeric column to add up per group beside the count, such as C(amount). Its total is the column
        C(total_<sum_column>) of C(final_report.csv). The sum is exact (decimal) and keeps the most decimals
        of its values.
      - Values are plain numbers such as C(12.50), C(-3) or C(.5); a leading C($) and C(,) thousands separators
        (C($1,234.56)) are accepted. Anything else, an empty value too, is an error naming the file, line and
        column, and that row is left out.
    type: str
  s3:
    description:
      - Only for O(src=s3://bucket/prefix) (O(kind=csv_aggregate)) - how to reach the bucket. Without credentials
        here, boto3's standard chain is used (environment, shared files and O(s3.profile), instance role).
      - A missing bucket, refused credentials or an endpoint that cannot be reached fail the task before anything
        is written.
    type: dict
    suboptions:
      endpoint_url:
        description: The endpoint of an S3-compatible store (path-style addressing); empty for AWS S3.
        type: str
      region:
        description: The bucket's region.
        type: str
      access_key:
        description: The access key ID. Never logged.
        type: str
      secret_key:
        description: The secret access key, with O(s3.access_key). Never logged.
        type: str
      session_token:
        description: A session token for temporary credentials. Never logged.
        type: str
      profile:
        description: A profile of the shared AWS configuration files.
        type: str
      timeout:
        description: Seconds to wait for the endpoint (each of 3 tries).
        type: int
        default: 10
notes:
  - >-
    Sales maths: revenue is C(price * total_sales), computed exactly in decimal; the most popular year is
    the C(car_year) with the largest sum of C(total_sales). Money is printed with two decimals and thousands
    separators, with no dependency on the locale.
  - >-
    Ties are deterministic: the record that comes first in O(src) has the most revenue or the most sales;
    among years with the same sales the year whose first record comes first wins; table rows with equal
    sort values keep their order in O(src).
  - >-
    The pie chart shows every make with at least 3% of the sales, up to nine, and groups the others into
    C(Other).
  - >-
    The PDF bytes depend on the reportlab version: after upgrading reportlab the next run reports a change
    once.
  - >-
    The built-in Helvetica font is used, which covers Western European text (Windows-1252); other scripts
    are not rendered.
  - The PDF is always replaced atomically, so O(unsafe_writes) has no effect.
  - >-
    O(kind=csv_aggregate) output: UTF-8 without a byte order mark; the CSV files follow RFC 4180 (CRLF line ends,
    values quoted only when they hold a comma, a quote or a newline, the text of every value kept as it is);
    every value is HTML-escaped in the pages, and an empty group value shows as C((empty)) in the chart.
    The pages are small and self-contained (an inline style sheet, no scripts, no external resources).
seealso:
  - name: ReportLab user guide
    description: The PDF library this module uses.
    link: https://docs.reportlab.com/reportlab/userguide/ch1_intro/
"""

EXAMPLES = r"""
- name: Tell the supplier what was processed
  storeops.shop.build_report:
    kind: processed_update
    src: /srv/supplier-data/descriptions
    dest: /tmp/processed.pdf

- name: Monthly car sales summary
  storeops.shop.build_report:
    kind: sales_summary
    src: /srv/sales/car_sales.json
    dest: /srv/reports/cars.pdf
    date: "{{ '%Y-%m-%d' | strftime }}"
  register: sales

- name: The monthly report from the store's daily order exports (final_report.csv, .html, final_chart.html)
  storeops.shop.build_report:
    kind: csv_aggregate
    src: /srv/exports/orders/2026-12
    dest: /srv/reports/build/2026/dec
    group_by: category
    sum_column: amount
    sort_by: sum
    title: Orders by category, December 2026
  register: monthly

- name: The categories and their totals
  ansible.builtin.debug:
    msg: "{{ monthly.groups | map(attribute='value') | zip(monthly.groups | map(attribute='sum')) | list }}"

- name: Use the summary as the mail body
  ansible.builtin.debug:
    msg: "{{ sales.summary.lines | join('\n') }}"

- name: Sales records fetched from the sales web service
  storeops.shop.build_report:
    kind: sales_summary
    src: "{{ sales_api.json }}"
    dest: /srv/reports/cars.pdf
    sort_by: revenue

- name: A generic table from a list of dictionaries
  storeops.shop.build_report:
    kind: table
    title: A Complete Inventory of My Fruit
    text: This is all my fruit.
    src:
      - {name: elderberries, amount: 10, value: 0.45}
      - {name: figs, amount: 5, value: 3}
    columns: [name, amount, value]
    sort_by: amount
    sort_order: desc
    dest: /tmp/report.pdf
    mode: "0640"
"""

RETURN = r"""
dest:
  description: Path of the PDF (for O(kind=csv_aggregate), of the folder of the report files).
  returned: success
  type: str
  sample: /srv/reports/cars.pdf
kind:
  description: The kind of report.
  returned: success
  type: str
  sample: sales_summary
title:
  description: The title printed on the report.
  returned: success
  type: str
  sample: Processed Update on November 23, 2026
date:
  description: The report date, C(YYYY-MM-DD); for O(kind=csv_aggregate) V(null) unless O(date) is set or O(title)
    has C({date}).
  returned: success
  type: str
  sample: "2026-11-23"
pages:
  description: Number of pages of the PDF.
  returned: success, for the PDF kinds
  type: int
  sample: 3
size:
  description: Size of the PDF in bytes.
  returned: success, for the PDF kinds
  type: int
  sample: 48211
sha256:
  description: SHA-256 checksum of the PDF.
  returned: success, for the PDF kinds
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
rows:
  description: Number of table rows (cars for O(kind=sales_summary), good rows of all daily files in
    C(combined.csv) for O(kind=csv_aggregate)).
  returned: when O(kind) is V(sales_summary), V(table) or V(csv_aggregate)
  type: int
  sample: 100
columns:
  description: The table header (for O(kind=csv_aggregate), the header of the daily files).
  returned: when O(kind) is V(table) or V(csv_aggregate)
  type: list
  elements: str
  sample: [name, amount, value]
summary:
  description: The sales summary.
  returned: when O(kind=sales_summary)
  type: dict
  contains:
    lines:
      description: The summary lines printed in the report, for a mail body.
      type: list
      elements: str
      sample:
        - "The Acura TL (2007) generated the most revenue: $17,233,779.80"
        - "The Acura TL (2007) had the most sales: 1192"
        - "The most popular year was 2007 with 3011 sales."
    most_revenue:
      description: The car with the most revenue (C(id), C(car), C(car_make), C(car_model), C(car_year), C(price),
        C(total_sales), C(revenue)).
      type: dict
    most_sales:
      description: The car with the most sales, same keys as RV(summary.most_revenue).
      type: dict
    most_popular_year:
      description: C(year) and its C(total_sales).
      type: dict
      sample: {year: 2007, total_sales: 3011}
    cars:
      description: Number of records.
      type: int
    total_sales:
      description: Sum of C(total_sales).
      type: int
    total_revenue:
      description: Sum of the revenue of every record, rounded to cents.
      type: float
products:
  description: The products in the report, in report order.
  returned: when O(kind=processed_update)
  type: list
  elements: dict
  contains:
    name:
      description: Product name.
      type: str
      sample: Apple
    weight:
      description: Weight in pounds.
      type: int
      sample: 500
    file:
      description: The description file.
      type: str
      sample: /srv/supplier-data/descriptions/001.txt
    status:
      description: What the upload did with it, V(created) or V(unchanged); V(null) when O(src) is a folder.
      type: str
      sample: created
total_weight:
  description: Sum of the product weights, in pounds.
  returned: when O(kind=processed_update)
  type: int
  sample: 1200
refused:
  description:
    - The products the catalog site refused, from the M(storeops.shop.catalog_upload) result given as O(src), in the
      collection's failure shape; they are listed under "Not uploaded" in the report.
  returned: when O(kind=processed_update)
  type: list
  elements: dict
  sample: [{file: /srv/delivery/descriptions/004.txt, line: 1, field: name, message: "product name 'Apple' is already used by 001.txt"}]
group_by:
  description: The O(group_by) column, as the header names it.
  returned: when O(kind=csv_aggregate)
  type: str
  sample: category
sum_column:
  description: The O(sum_column) column, as the header names it, or V(null).
  returned: when O(kind=csv_aggregate)
  type: str
  sample: amount
inputs:
  description: The daily files the report was built from (with the header), in the order they were read.
  returned: when O(kind=csv_aggregate)
  type: list
  elements: str
  sample: [/srv/exports/orders/2026-12/orders-2026-12-01.csv, /srv/exports/orders/2026-12/orders-2026-12-02.csv]
groups:
  description: The aggregate, in the order of the report.
  returned: when O(kind=csv_aggregate)
  type: list
  elements: dict
  contains:
    value:
      description: The O(group_by) value.
      type: str
      sample: Fruit
    count:
      description: Number of rows with it.
      type: int
      sample: 412
    sum:
      description: The exact sum of its O(sum_column) values, as a decimal string; only with O(sum_column).
      type: str
      sample: "10233.50"
total:
  description: The C(count) of all rows and, with O(sum_column), their C(sum) (a decimal string).
  returned: when O(kind=csv_aggregate)
  type: dict
  sample: {count: 1240, sum: "30911.75"}
files:
  description: The report files in O(dest), in the order they are written.
  returned: when O(kind=csv_aggregate)
  type: list
  elements: dict
  contains:
    name:
      description: C(combined.csv), C(final_report.csv), C(final_report.html) or C(final_chart.html).
      type: str
    path:
      description: Its path.
      type: str
    size:
      description: Its size in bytes.
      type: int
    sha256:
      description: Its SHA-256 checksum.
      type: str
    changed:
      description: Whether this run wrote it (in check mode, would write it).
      type: bool
  sample:
    - {name: final_report.csv, path: /srv/reports/build/2026/dec/final_report.csv, size: 138, changed: false,
       sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}
left_out:
  description:
    - With O(skip_invalid=true), the invalid description files left out of the report, in the failure shape.
    - For O(kind=csv_aggregate), the problems in the daily files (files and rows left out of the report).
  returned: when O(kind) is V(processed_update) or V(csv_aggregate)
  type: list
  elements: dict
  sample:
    - file: /srv/delivery/descriptions/004.txt
      line: 2
      field: weight
      message: "weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')"
errors:
  description:
    - Why no report was written, in the collection's failure shape (see the notes); for example each invalid
      description file, or each bad car sales record with its index and id in C(field). Empty on success.
    - For O(kind=csv_aggregate), every problem in the daily files with its file and line (the report files were
      written from the good rows); for example a row with the wrong number of fields, or a bad number with the
      O(sum_column) in C(field).
  returned: always
  type: list
  elements: dict
  sample: [{file: /srv/sales/cars.json, line: null, field: record 3 (id 4), message: "price 'abc' is not an amount"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._job import run_module
from ansible_collections.storeops.shop.plugins.module_utils._pdf import HAS_REPORTLAB, REPORTLAB_IMPORT_ERROR
from ansible_collections.storeops.shop.plugins.module_utils._publish_s3 import (
    BOTO3_IMPORT_ERROR,
    CONNECTION_ARGUMENT_SPEC,
    HAS_BOTO3,
)
from ansible_collections.storeops.shop.plugins.module_utils._report import KINDS, build_report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type='str', required=True, choices=list(KINDS)),
            src=dict(type='raw', required=True),
            dest=dict(type='path', required=True),
            title=dict(type='str'),
            date=dict(type='str'),
            text=dict(type='str'),
            page_size=dict(type='str', default='A4', choices=['A4', 'letter']),
            columns=dict(type='list', elements='str'),
            sort_by=dict(type='str'),
            sort_order=dict(type='str', choices=['asc', 'desc']),
            skip_invalid=dict(type='bool', default=False),
            group_by=dict(type='str'),
            sum_column=dict(type='str'),
            s3=dict(type='dict', options=CONNECTION_ARGUMENT_SPEC, required_together=[('access_key', 'secret_key')]),
        ),
        required_if=[('kind', 'csv_aggregate', ['group_by'])],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    needs_reportlab = module.params['kind'] != 'csv_aggregate'
    requirements = [(HAS_REPORTLAB, 'reportlab', REPORTLAB_IMPORT_ERROR)] if needs_reportlab else []
    if isinstance(module.params['src'], str) and module.params['src'].startswith('s3://'):
        requirements.append((HAS_BOTO3, 'boto3', BOTO3_IMPORT_ERROR))
    run_module(module, build_report, requirements=requirements, file_attributes_of='dest')


if __name__ == '__main__':
    main()
