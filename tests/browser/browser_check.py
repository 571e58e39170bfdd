# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real-browser checks of the lab's web sites with headless Chromium (Debian's chromium
and chromium-driver, driven by Selenium). Each check asserts on the rendered DOM, saves a
screenshot, and prints one JSON line with what it saw; it exits non-zero on failure.

    browser_check.py storefront URL --expect NAME --screenshot FILE
    browser_check.py roundcube URL --user U --password-env VAR --expect SUBJECT --screenshot FILE
    browser_check.py reportindex URL --expect LINK_TEXT --screenshot FILE

The lab's certificates are self-signed, so certificate errors are ignored here; the
Molecule verify steps check TLS separately with the role's CA file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 30


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for flag in (
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--ignore-certificate-errors',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--window-size=1280,900',
        '--user-data-dir=' + profile,
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)


def storefront(driver, args):
    driver.get(args.url)
    wait = WebDriverWait(driver, TIMEOUT)
    wait.until(lambda d: args.expect in d.find_element(By.TAG_NAME, 'body').text)
    # The product's card: its image must have really loaded (naturalWidth > 0).
    images = driver.execute_script(
        "return Array.from(document.images).map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0}));"
    )
    loaded = [image for image in images if image['ok'] and '/media/' in image['src']]
    if not loaded:
        raise AssertionError('no product image loaded from /media/: %r' % images)
    return {'title': driver.title, 'product_images_loaded': len(loaded), 'found': args.expect}


def roundcube(driver, args):
    password = os.environ.get(args.password_env or '', '')
    if not password:
        raise AssertionError('set the password in the environment variable named by --password-env')
    driver.get(args.url)
    wait = WebDriverWait(driver, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.ID, 'rcmloginuser'))).send_keys(args.user)
    driver.find_element(By.ID, 'rcmloginpwd').send_keys(password)
    driver.find_element(By.ID, 'rcmloginsubmit').click()
    wait.until(EC.presence_of_element_located((By.ID, 'messagelist')))
    wait.until(lambda d: args.expect in d.find_element(By.ID, 'messagelist').text)
    rows = driver.find_elements(By.CSS_SELECTOR, '#messagelist tbody tr')
    return {'title': driver.title, 'messages_listed': len(rows), 'found': args.expect}


def reportindex(driver, args):
    """The report site's generated index: a link whose text holds --expect, and that link opens."""
    driver.get(args.url)
    wait = WebDriverWait(driver, TIMEOUT)
    wait.until(lambda d: args.expect in d.find_element(By.TAG_NAME, 'body').text)
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('table a')).map(a => ({text: a.textContent, href: a.href}));"
    )
    wanted = [link for link in links if args.expect in link['text']]
    if not wanted:
        raise AssertionError('no link in the index shows %r: %r' % (args.expect, links))
    return {'title': driver.title, 'reports_listed': len(links), 'found': wanted[0]['href']}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('check', choices=('storefront', 'roundcube', 'reportindex'))
    parser.add_argument('url')
    parser.add_argument('--expect', required=True, help='text the page must show')
    parser.add_argument('--screenshot', required=True, help='PNG file to write')
    parser.add_argument('--user')
    parser.add_argument('--password-env')
    args = parser.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='storeops-chromium-') as profile:
        driver = browser(profile)
        try:
            try:
                result = globals()[args.check](driver, args)
            finally:
                driver.save_screenshot(args.screenshot)
        except Exception as exc:  # report what the browser showed, then fail
            print(
                json.dumps(
                    {
                        'ok': False,
                        'error': '%s: %s' % (type(exc).__name__, exc),
                        'url': driver.current_url,
                        'screenshot': args.screenshot,
                    }
                )
            )
            return 1
        finally:
            driver.quit()
    result.update(ok=True, screenshot=args.screenshot)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
