#!/usr/bin/env python3
"""Real-browser tests of the opinion analysis (issue 15): the console's Analyse panel and the
opinion map in report.html, in headless Chromium through Selenium, with an axe-core scan
(WCAG 2.0/2.1 A and AA) of the panel and the report's analysis section.

Run by tests-browser/run.sh (which sets STELLING_URL, STELLING_KEY and TEST_OUTPUT and installs
selenium-axe-python for axe-core). The analysis needs votes with structure, and the shared server
must keep its state for the other test files, so this file starts its OWN server on a free
loopback port (the binary from STELLING_BIN, else .build/debug/stelling) and fills it with
`stelling load event --camps 3`. Every wait is bounded. Ends with a line "N passed, N failed".
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import unittest
import urllib.request

from selenium.webdriver.common.by import By

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.environ.get('TEST_OUTPUT', os.path.join(ROOT, 'test-output'))
SHOTS = os.path.join(OUT, 'screenshots')
BIN = os.environ.get('STELLING_BIN') or os.path.join(ROOT, '.build', 'debug', 'stelling')
WAIT = float(os.environ.get('STELLING_WAIT', '15'))
KEY = 'analysis-test-key-%d' % os.getpid()
WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_browser import make_driver, wait_for, axe_source, describe  # noqa: E402 - after the path

CONFIG = """title: Analyse in de browser
language: nl
database: {database}
web_root: {web}
groups: [Rijk, Provincie, Gemeente]
statements:
  - id: s1
    text: Iedereen wil minder regels
  - id: s2
    text: Het Rijk moet betalen
  - id: s3
    text: De gemeente weet het beter
  - id: s4
    text: Samenwerken kost tijd
  - id: s5
    text: Leren doe je samen
limits:
  join_burst: 5000
  joins_per_second: 5000
  max_connections_per_address: 5000
  vote_burst: 100
  votes_per_second: 100
"""


def http_get(base, path, headers=None):
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def axe_scan(driver, selector):
    """Runs axe-core on the part of the page under `selector`; returns the WCAG A/AA violations."""
    driver.execute_script(axe_source())
    result = driver.execute_async_script(
        'const done = arguments[arguments.length - 1];'
        'axe.run({include: [[arguments[1]]]}, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})'
        '  .then(r => done({violations: r.violations}), e => done({error: String(e)}));', WCAG_TAGS, selector)
    if 'error' in result:
        raise AssertionError('axe-core failed: %s' % result['error'])
    return result['violations']


from own_server import free_port  # noqa: E402


class AnalysisTests(unittest.TestCase):
    """One server with planted camps; the console and the report, in order."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BIN):
            raise AssertionError('no server binary at %s (set STELLING_BIN or run swift build)' % BIN)
        os.makedirs(SHOTS, exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix='stelling-analysis-')
        config = os.path.join(cls.work, 'event.yaml')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write(CONFIG.format(database=os.path.join(cls.work, 'event.sqlite'), web=os.path.join(ROOT, 'web')))
        cls.port = free_port()
        cls.base = 'http://127.0.0.1:%d' % cls.port
        cls.log = open(os.path.join(OUT, 'analysis-server.log'), 'w')
        cls.server = subprocess.Popen([BIN, 'serve', '--config', config, '--host', '127.0.0.1', '--port', str(cls.port)],
                                      env={**os.environ, 'STELLING_MODERATOR_KEY': KEY}, stdout=cls.log, stderr=cls.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if http_get(cls.base, '/healthz')[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError('the analysis test server did not start; see %s' % cls.log.name)
        load = subprocess.run([BIN, 'load', 'event', '--url', 'ws://127.0.0.1:%d/ws' % cls.port, '--clients', '90',
                               '--duration', '4', '--camps', '3', '--timeout', '60', '--quiet'],
                              env={**os.environ, 'STELLING_MODERATOR_KEY': KEY}, capture_output=True, text=True, timeout=120)
        if load.returncode != 0:
            raise AssertionError('stelling load event --camps 3 failed:\n%s%s' % (load.stdout, load.stderr))
        cls.driver = make_driver(1366, 900)

    @classmethod
    def tearDownClass(cls):
        driver = getattr(cls, 'driver', None)
        if driver:
            driver.quit()
        server = getattr(cls, 'server', None)
        if server:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            cls.log.close()
        shutil.rmtree(getattr(cls, 'work', ''), ignore_errors=True)

    def analysis(self):
        status, _, body = http_get(self.base, '/analysis.json', {'Authorization': 'Bearer ' + KEY})
        self.assertEqual(status, 200)
        return json.loads(body)

    def test_01_analysis_json_needs_the_key_and_finds_camps(self):
        self.assertEqual(http_get(self.base, '/analysis.json')[0], 401)
        analysis = self.analysis()
        self.assertGreaterEqual(len(analysis['participants']), 60)
        self.assertGreaterEqual(len(analysis['opinion_groups']), 3)

    def test_02_console_panel_shows_rankings_and_the_map(self):
        d = self.driver
        d.get(self.base + '/moderator.html#key=' + KEY)
        wait_for(d, lambda d: d.execute_script(
            'return document.querySelectorAll("#analysis-map .analysis-dot").length'), 'the opinion map has dots')
        expected = self.analysis()
        self.assertEqual(d.find_element(By.ID, 'analysis-heading').text, 'Analyse')
        self.assertEqual(d.execute_script('return document.querySelectorAll("#analysis-divisive li[data-statement]").length'), 3)
        self.assertEqual(d.execute_script('return document.querySelectorAll("#analysis-agreed li[data-statement]").length'), 3)
        dots = d.execute_script('return document.querySelectorAll("#analysis-map .analysis-dot").length')
        self.assertEqual(dots, len(expected['participants']))
        legend = d.execute_script('return [...document.querySelectorAll("#analysis-legend li")].map(li => li.textContent.trim())')
        self.assertEqual(len(legend), len(expected['opinion_groups']))
        self.assertTrue(legend[0].startswith('Kamp A: '), legend)
        # Not colour alone: each camp has its own shape and its letter on the map.
        shapes = d.execute_script(
            'const m = {}; for (const e of document.querySelectorAll("#analysis-map .analysis-dot[data-camp]"))'
            ' m[e.dataset.camp] = e.tagName + (e.getAttribute("points") || "").trim().split(/\\s+/).length; return m;')
        self.assertEqual(len(set(shapes.values())), len(shapes), shapes)
        labels = d.execute_script('return [...document.querySelectorAll("#analysis-map svg > text")].map(t => t.textContent)')
        self.assertEqual(labels, [g['id'] for g in expected['opinion_groups']])
        self.assertIn('deelnemers', d.find_element(By.ID, 'analysis-map-title').get_attribute('textContent'))
        d.save_screenshot(os.path.join(SHOTS, 'analysis-console.png'))
        panel = d.find_element(By.ID, 'analysis-panel')
        d.execute_script('arguments[0].scrollIntoView()', panel)
        panel.screenshot(os.path.join(SHOTS, 'analysis-panel.png'))

    def test_03_panel_passes_axe(self):
        violations = axe_scan(self.driver, '#analysis-panel')
        self.assertEqual(violations, [], describe(violations))

    def test_04_panel_speaks_english(self):
        d = self.driver
        d.find_element(By.ID, 'lang').click()
        wait_for(d, lambda d: d.find_element(By.ID, 'analysis-heading').text == 'Analysis', 'the panel switches to English')
        self.assertEqual(d.find_element(By.ID, 'analysis-divisive-heading').text, 'Most divisive')
        self.assertTrue(d.execute_script('return document.querySelector("#analysis-legend li").textContent.trim()').startswith('Camp A: '))
        d.find_element(By.ID, 'lang').click()
        wait_for(d, lambda d: d.find_element(By.ID, 'analysis-heading').text == 'Analyse', 'back to Dutch')

    def test_05_panel_fetches_the_analysis_every_ten_seconds(self):
        d = self.driver
        count = 'return performance.getEntriesByType("resource").filter(e => e.name.endsWith("/analysis.json")).length'
        before = d.execute_script(count)
        wait_for(d, lambda d: d.execute_script(count) > before, 'the panel fetches /analysis.json again within 10 s', timeout=14)
        self.assertTrue(d.find_elements(By.CSS_SELECTOR, '#analysis-map .analysis-dot'), 'the map is still drawn')

    def test_06_report_has_the_map_without_script(self):
        status, headers, body = http_get(self.base, '/export/report.html', {'Authorization': 'Bearer ' + KEY})
        self.assertEqual(status, 200)
        html = body.decode('utf-8')
        self.assertNotIn('<script', html.lower())
        self.assertIn('<svg class="opinion-map"', html)
        self.assertIn('Alle groepen eens over', html)
        path = os.path.join(self.work, 'report.html')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(html)
        d = self.driver
        d.get('file://' + path)
        expected = self.analysis()
        markers = d.execute_script('return document.querySelector("svg.opinion-map").querySelectorAll("circle, rect, polygon, path").length')
        # Every participant, plus a legend marker per camp, plus the frame.
        self.assertEqual(markers, len(expected['participants']) + len(expected['opinion_groups']) + 1)
        self.assertEqual(d.execute_script('return document.scripts.length'), 0)
        section = d.find_element(By.ID, 'analysis')
        d.execute_script('arguments[0].scrollIntoView()', section)
        d.save_screenshot(os.path.join(SHOTS, 'analysis-report.png'))
        violations = axe_scan(d, '#analysis')
        self.assertEqual(violations, [], describe(violations))

    def test_99_no_console_errors(self):
        entries = [e for e in self.driver.get_log('browser') if e['level'] == 'SEVERE']
        self.assertEqual(entries, [], entries)


class CountingResult(unittest.TextTestResult):
    pass


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(AnalysisTests)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult, failfast=False)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        print('0 passed, 1 failed')
        sys.exit(1)
