# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""index_browser.py URL EXPECTED_JSON SCREENSHOT

Opens the report site's index in headless Chromium (Debian's chromium + chromium-driver via
Selenium), asserts on the DOM that the table lists exactly the expected files - link text,
the resolved href (URL + path, percent-encoded) and data-bytes - saves a screenshot, and
prints one JSON line. EXPECTED_JSON: {"path": size, ...}. Exits 1 on a mismatch.
"""

import json
import os
import sys
import tempfile
from urllib.parse import quote, urljoin

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'browser'))
from browser_check import browser  # noqa: E402


def main(url, expected_json, screenshot):
    expected = json.loads(expected_json)
    os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='storeops-chromium-') as profile:
        driver = browser(profile)  # the one headless Chromium set-up of tests/browser/browser_check.py
        try:
            driver.get(url)
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#reports tbody tr'))
            rows = driver.execute_script(
                "return Array.from(document.querySelectorAll('#reports tbody tr')).map(r => ({"
                "text: r.querySelector('a') && r.querySelector('a').textContent,"
                "href: r.querySelector('a') && r.querySelector('a').href,"
                "raw: r.querySelector('a') && r.querySelector('a').getAttribute('href'),"
                "bytes: r.querySelector('td.size') && r.querySelector('td.size').dataset.bytes}));"
            )
            driver.save_screenshot(screenshot)
            title = driver.title
        finally:
            driver.quit()
    seen = {row['text']: int(row['bytes']) for row in rows if row['text'] is not None}
    problems = []
    if seen != expected:
        problems.append('listed %r, expected %r' % (seen, expected))
    if [row['text'] for row in rows] != sorted(expected):
        problems.append('not sorted: %r' % [row['text'] for row in rows])
    for row in rows:
        want = urljoin(url, quote(row['text'] or '', safe="/-._~!$'()*+,;=:@"))
        if row['href'] != want or not (row['raw'] or '').startswith('./'):
            problems.append('link %r resolves to %r, expected %r (relative ./...)' % (row['text'], row['href'], want))
    print(
        json.dumps(
            {'ok': not problems, 'title': title, 'rows': len(rows), 'problems': problems, 'screenshot': screenshot},
            ensure_ascii=False,
        )
    )
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:4]))
