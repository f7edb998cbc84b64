#!/usr/bin/env python3
"""Real-browser tests of the Stelling web pages, in headless Chromium through Selenium.

Run by tests-browser/run.sh, which starts a server and sets:
  STELLING_URL   the server's base address, e.g. http://127.0.0.1:41234
  STELLING_KEY   the moderator key the server was started with
  TEST_OUTPUT    folder for screenshots (default test-output)

The tests run in order as one session: a participant joins, votes and changes the vote,
chats; the moderator advances, closes and reveals; the participant and the screen show
the result; a reload keeps identity and votes. Every wait is bounded. The browser consoles
must stay free of errors (SEVERE entries). Ends with a line "N passed, N failed".
"""
import json
import os
import re
import sys
import time
import traceback
import unittest
import urllib.request
from html.parser import HTMLParser

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get('STELLING_URL', 'http://127.0.0.1:8080').rstrip('/')
KEY = os.environ.get('STELLING_KEY', 'browser-test-key-0001')
OUT = os.environ.get('TEST_OUTPUT', 'test-output')
SHOTS = os.path.join(OUT, 'screenshots')
WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'web')
WAIT = float(os.environ.get('STELLING_WAIT', '10'))
CHROMEDRIVER = os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')

NAME = 'Anna de Vries'
GROUP = 'Gemeente'
PHONE = (360, 740)
DESKTOP = (1366, 768)

# Console entries that are expected and not errors of the pages: the exports answer 404 or
# 503 until the store lands, and Chromium reports a failed resource load as SEVERE.
ALLOWED_CONSOLE = [re.compile(r'/export/\S+ - Failed to load resource')]


def make_driver(width=1280, height=900):
    options = webdriver.ChromeOptions()
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                     '--no-first-run', '--no-default-browser-check', '--disable-extensions',
                     '--disable-background-networking', '--disable-sync', '--lang=nl-NL',
                     f'--window-size={width},{height}'):
        options.add_argument(argument)
    if os.path.exists('/usr/bin/chromium'):
        options.binary_location = '/usr/bin/chromium'
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT * 2)
    driver.set_script_timeout(WAIT)
    viewport(driver, width, height)
    return driver


def viewport(driver, width, height):
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
        'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': width < 600})


def wait_for(driver, condition, message, timeout=WAIT):
    """Waits (bounded) until condition(driver) is truthy; returns its value."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message)
    except TimeoutException:
        raise AssertionError('timed out after %ss: %s' % (timeout, message)) from None


def text_of(driver, element_id):
    return driver.execute_script(
        'const e = document.getElementById(arguments[0]); return e ? e.textContent : null;', element_id)


def visible(driver, element_id):
    return driver.execute_script(
        'const e = document.getElementById(arguments[0]);'
        'return !!e && !e.closest("[hidden]") && e.getClientRects().length > 0;', element_id)


def attr(driver, selector, name):
    return driver.execute_script(
        'const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;',
        selector, name)


def http_get(path, headers=None):
    request = urllib.request.Request(BASE + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def axe_source():
    """axe-core's script, from the selenium-axe-python package run.sh installs."""
    import selenium_axe_python
    path = os.path.join(os.path.dirname(selenium_axe_python.__file__), 'axe-core', 'axe.min.js')
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def describe(violations):
    lines = []
    for violation in violations:
        lines.append('%s (%s): %s' % (violation['id'], violation['impact'], violation['help']))
        for node in violation['nodes'][:5]:
            lines.append('    %s: %s' % (node['target'], node.get('failureSummary', '').replace('\n', ' ')))
    return '\n'.join(lines)


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.problems = []
        self.in_script_without_src = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _ in attrs:
            if name.lower().startswith('on'):
                self.problems.append(f'<{tag} {name}=…> event handler attribute')
            if name.lower() == 'style':
                self.problems.append(f'<{tag} style=…> inline style')
        if tag == 'style':
            self.problems.append('<style> element')
        if tag == 'script':
            if 'src' not in names:
                self.problems.append('<script> without src')
        if tag == 'a' and (names.get('href') or '').lower().startswith('javascript:'):
            self.problems.append('javascript: link')


class PageTests(unittest.TestCase):
    """What every browser test session shares: named drivers (cls.drivers, made by the
    subclass's setUpClass), quitting them, collecting their console logs after each test,
    the console check, and screenshots. test_panel.py and test_moderated.py build on it."""

    drivers = {}
    console = []

    @classmethod
    def tearDownClass(cls):
        for driver in cls.drivers.values():
            try:
                driver.quit()
            except Exception:  # noqa: BLE001 - closing down, nothing to do
                pass

    def tearDown(self):
        self.drain_console()

    @classmethod
    def drain_console(cls):
        for role, driver in cls.drivers.items():
            try:
                for entry in driver.get_log('browser'):
                    cls.console.append((role, entry))
            except Exception:  # noqa: BLE001 - a driver that is gone has no log
                pass

    def severe_console_entries(self):
        """The SEVERE console entries so far that ALLOWED_CONSOLE does not expect."""
        self.drain_console()
        return [(role, entry['message']) for role, entry in self.console
                if entry.get('level') == 'SEVERE' and not any(p.search(entry['message']) for p in ALLOWED_CONSOLE)]

    def shot(self, driver, name):
        path = os.path.join(SHOTS, name + '.png')
        driver.save_screenshot(path)
        return path

    @classmethod
    def read_event_info(cls):
        """Makes the screenshot folder and keeps the server's /event.json in cls.info."""
        os.makedirs(SHOTS, exist_ok=True)
        status, _, body = http_get('/event.json')
        assert status == 200, '/event.json answered %s' % status
        cls.info = json.loads(body)

    @property
    def m(self):
        return self.drivers['moderator']

    @property
    def s(self):
        return self.drivers['screen']


class BrowserTests(PageTests):
    """One session, in order (the methods are numbered)."""

    drivers = {}
    console = []
    statements = []

    @classmethod
    def setUpClass(cls):
        cls.read_event_info()
        cls.drivers = {'participant': make_driver(*DESKTOP), 'moderator': make_driver(*DESKTOP),
                       'screen': make_driver(*DESKTOP)}

    @property
    def p(self):
        return self.drivers['participant']

    def moderator_key(self, key):
        """Presses a shortcut key on the moderator page, focus on the body."""
        self.m.execute_script('document.activeElement && document.activeElement.blur && document.activeElement.blur();')
        self.m.find_element(By.TAG_NAME, 'body').send_keys(key)

    def tally_value(self, choice):
        return self.m.execute_script(
            'const r = document.querySelector(`#bars .bar-row[data-choice="${arguments[0]}"] .bar-value`);'
            'return r ? r.textContent : "";', choice)

    # ---- static checks ----

    def test_00_pages_have_no_inline_code(self):
        for page in ('index.html', 'moderator.html', 'screen.html'):
            finder = InlineCodeFinder()
            with open(os.path.join(WEB, page), encoding='utf-8') as handle:
                finder.feed(handle.read())
            self.assertEqual(finder.problems, [], page)
        for name in os.listdir(os.path.join(WEB, 'js')):
            with open(os.path.join(WEB, 'js', name), encoding='utf-8') as handle:
                source = handle.read()
            for pattern, what in ((r'\.(innerHTML|outerHTML)\s*[+]?=', 'HTML from a string'),
                                  (r'insertAdjacentHTML\s*\(|document\.write|createContextualFragment', 'HTML from a string'),
                                  (r'\beval\s*\(|new\s+Function\s*\(', 'code from a string'),
                                  (r'https?://(?!www\.w3\.org/2000/svg\b)', 'an address of another host')):
                match = re.search(pattern, source)
                self.assertIsNone(match, '%s uses %s: %s' % (name, what, match and match.group(0)))
        for path, kind in (('/', 'text/html'), ('/moderator', 'text/html'), ('/screen', 'text/html'),
                           ('/js/participant.js', 'javascript'), ('/css/base.css', 'text/css'),
                           ('/favicon.svg', 'image/svg+xml')):
            status, headers, _ = http_get(path)
            self.assertEqual(status, 200, path)
            lower = {k.lower(): v for k, v in headers.items()}
            self.assertIn(kind, lower.get('content-type', ''), path)
            policy = lower.get('content-security-policy')
            if kind == 'text/html':
                if policy is None:
                    print('  note: %s has no Content-Security-Policy header (the pages carry it in a meta element)' % path)
                else:
                    self.assertNotIn('unsafe-inline', policy, path)

    # ---- the session ----

    def test_01_participant_joins(self):
        p = self.p
        p.get(BASE + '/')
        wait_for(p, lambda d: visible(d, 'join-name'), 'the join form')
        self.assertEqual(text_of(p, 'event-title'), self.info['title'])
        self.assertEqual(p.execute_script('return document.documentElement.lang'), self.info.get('language', 'nl'))
        # The programme from /event.json is shown before joining.
        items = p.find_elements(By.CSS_SELECTOR, '#programme-list li')
        self.assertEqual(len(items), len(self.info.get('programme', [])))
        # Joining without a name is refused kindly, without a round trip.
        p.find_element(By.ID, 'join-submit').click()
        wait_for(p, lambda d: text_of(d, 'join-error'), 'an error for an empty name')
        self.assertEqual(attr(p, '#join-name', 'aria-invalid'), 'true')
        p.find_element(By.ID, 'join-name').send_keys(NAME)
        if self.info.get('groups'):
            Select(p.find_element(By.ID, 'join-group')).select_by_visible_text(GROUP)
        p.find_element(By.ID, 'join-submit').click()
        wait_for(p, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the participant is connected')
        wait_for(p, lambda d: visible(d, 'chat') and visible(d, 'stage'), 'the statement and chat')
        identity = json.loads(p.execute_script('return sessionStorage.getItem("stelling.participant")'))
        self.assertEqual(identity['name'], NAME)
        self.assertTrue(identity.get('resume'), 'the resume token is kept in sessionStorage by default')
        self.assertIn(NAME, text_of(p, 'you'))

    def test_02_moderator_key_from_fragment(self):
        m = self.m
        m.get(BASE + '/moderator#key=' + KEY)
        wait_for(m, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the moderator is connected')
        self.assertEqual(m.execute_script('return location.hash'), '', 'the key left the address bar')
        self.assertNotIn(KEY, m.current_url)
        self.assertEqual(m.execute_script('return sessionStorage.getItem("stelling.moderator.key")'), KEY)
        self.assertIsNone(m.execute_script('return localStorage.getItem("stelling.moderator.key")'))
        items = wait_for(m, lambda d: d.find_elements(By.CSS_SELECTOR, '#statement-list .st-item'), 'the statements')
        type(self).statements = [e.find_element(By.CSS_SELECTOR, '.st-text').text for e in items]
        self.assertGreaterEqual(len(self.statements), 2)
        wait_for(m, lambda d: re.search(r'\b1\b', text_of(d, 'present') or ''), 'one participant present')

    def test_03_wrong_key_is_refused_kindly(self):
        driver = make_driver(*DESKTOP)
        try:
            driver.get(BASE + '/moderator#key=not-the-key-at-all')
            wait_for(driver, lambda d: visible(d, 'login-key') and text_of(d, 'login-error'), 'the key form with an error')
            self.assertIsNone(driver.execute_script('return sessionStorage.getItem("stelling.moderator.key")'))
            errors = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']
            self.assertEqual(errors, [])
        finally:
            driver.quit()

    def test_04_screen_joins(self):
        s = self.s
        s.get(BASE + '/screen')
        wait_for(s, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the screen is connected')
        wait_for(s, lambda d: re.search(r'\b1\b', text_of(d, 'present') or ''), 'the screen counts one participant')
        address = self.info.get('public_url') or BASE + '/'
        self.assertEqual(text_of(s, 'join-url'), address)
        # Before the first statement the join code and address fill the middle of the screen.
        self.assertEqual(attr(s, '#stage', 'data-mode'), 'waiting')
        self.assertTrue(visible(s, 'join-hero'), 'the large join code before the first statement')
        self.assertEqual(text_of(s, 'hero-url'), address)
        size = wait_for(s, lambda d: d.execute_script(
            'const i = document.querySelector(".screen-qr-large");'
            'return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width;'), 'the large QR code is shown')
        self.assertGreater(size, 250, 'large enough to scan from a stream')
        self.shot(s, 'screen-before-first-statement')

    def test_05_next_opens_voting(self):
        self.moderator_key('n')
        first = self.statements[0]
        wait_for(self.p, lambda d: text_of(d, 'statement-text') == first, 'the participant sees the first statement')
        wait_for(self.p, lambda d: d.execute_script(
            'return [...document.querySelectorAll(".vote-btn")].every(b => !b.disabled)'), 'the vote buttons are enabled')
        wait_for(self.s, lambda d: text_of(d, 'statement-text') == first, 'the screen shows the first statement')
        wait_for(self.s, lambda d: not visible(d, 'join-hero') and visible(d, 'join-corner'), 'the join code moves to the corner')
        wait_for(self.m, lambda d: attr(d, '#voting-badge', 'data-state') == 'open', 'the console shows voting open')
        wait_for(self.p, lambda d: first in (text_of(d, 'live') or ''), 'the new statement is announced (aria-live)')

    def test_06_vote_and_change_the_vote(self):
        p = self.p
        p.find_element(By.CSS_SELECTOR, '.vote-btn[data-choice="agree"]').click()
        wait_for(p, lambda d: attr(d, '.vote-btn[data-choice="agree"]', 'aria-pressed') == 'true', 'the own vote is marked')
        wait_for(p, lambda d: 'Eens' in (text_of(d, 'live') or '') or 'Agree' in (text_of(d, 'live') or ''),
                 'the registered vote is announced (aria-live)')
        wait_for(self.m, lambda d: self.tally_value('agree').endswith('(1)'), 'the moderator tally counts the vote')
        # Change it, by keyboard this time.
        button = p.find_element(By.CSS_SELECTOR, '.vote-btn[data-choice="disagree"]')
        p.execute_script('arguments[0].focus()', button)
        self.assertEqual(p.switch_to.active_element, button)
        button.send_keys(Keys.SPACE)
        wait_for(p, lambda d: attr(d, '.vote-btn[data-choice="disagree"]', 'aria-pressed') == 'true', 'the changed vote is marked')
        self.assertEqual(attr(p, '.vote-btn[data-choice="agree"]', 'aria-pressed'), 'false')
        wait_for(self.m, lambda d: self.tally_value('disagree').endswith('(1)') and self.tally_value('agree').endswith('(0)'),
                 'the tally follows the change')
        if self.info.get('groups'):
            row = wait_for(self.m, lambda d: d.execute_script(
                'const r = [...document.querySelectorAll("#groups-body tr")].find(r => r.cells[0].textContent === arguments[0]);'
                'return r ? [...r.cells].map(c => c.textContent) : null;', GROUP), 'the group row')
            wait_for(self.m, lambda d: d.execute_script(
                'const r = [...document.querySelectorAll("#groups-body tr")].find(r => r.cells[0].textContent === arguments[0]);'
                'return r && r.cells[2].textContent.startsWith("1") && r.cells[4].textContent === "1";', GROUP),
                'the group breakdown counts the vote as disagree: %s' % row)
        wait_for(self.m, lambda d: re.search(r'1\D+1', text_of(d, 'turnout') or ''), 'turnout 1 of 1')

    def test_07_chat(self):
        p = self.p
        box = p.find_element(By.ID, 'chat-input')
        text = '<b>Hallo</b> & "welkom" <img src=x onerror=alert(1)>'
        box.send_keys(text)
        self.assertTrue(text_of(p, 'chat-counter').startswith(str(len(text)) + ' '))
        box.send_keys(Keys.ENTER)
        own = wait_for(p, lambda d: d.find_elements(By.CSS_SELECTOR, '#chat-list .msg.own'), 'the own message, marked')
        self.assertEqual(own[-1].find_element(By.CSS_SELECTOR, '.msg-text').get_attribute('textContent'), text)
        self.assertEqual(p.find_elements(By.CSS_SELECTOR, '#chat-list b, #chat-list img'), [], 'user text stays text')
        wait_for(p, lambda d: d.find_element(By.ID, 'chat-input').get_attribute('value') == '', 'the box is emptied')
        box.send_keys('Tweede bericht')
        box.send_keys(Keys.ENTER)
        wait_for(p, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat-list .msg')) == 2, 'two messages')
        # The moderator sees both and hides the first; it vanishes for the participant.
        m = self.m
        wait_for(m, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat-list .msg')) == 2, 'the moderator sees the chat')
        first = m.find_elements(By.CSS_SELECTOR, '#chat-list .msg')[0]
        self.assertEqual(first.find_element(By.CSS_SELECTOR, '.msg-text').get_attribute('textContent'), text)
        first.find_element(By.CSS_SELECTOR, '.msg-actions .btn').click()
        wait_for(p, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat-list .msg')) == 1, 'the hidden message vanishes')
        self.assertEqual(p.find_element(By.CSS_SELECTOR, '#chat-list .msg .msg-text').get_attribute('textContent'), 'Tweede bericht')
        # Muted: the participant's next message is refused with a kind sentence.
        mute = wait_for(m, lambda d: d.find_elements(By.CSS_SELECTOR, '#chat-list .msg .msg-actions .btn-danger'), 'a mute button')
        mute[0].click()
        wait_for(m, lambda d: d.find_elements(By.CSS_SELECTOR, '#chat-list .msg-tag-muted'), 'the participant is marked muted')
        box.send_keys('Mag ik nog iets zeggen?')
        box.send_keys(Keys.ENTER)
        wait_for(p, lambda d: 'moderator' in (text_of(d, 'chat-error') or '').lower(), 'the muted error, kindly')
        self.assertEqual(box.get_attribute('value'), 'Mag ik nog iets zeggen?', 'the text is kept')
        unmute = m.find_element(By.CSS_SELECTOR, '#chat-list .msg .msg-actions button[aria-pressed="true"]')
        unmute.click()
        wait_for(m, lambda d: not d.find_elements(By.CSS_SELECTOR, '#chat-list .msg-tag-muted'), 'unmuted')
        box.send_keys(Keys.ENTER)
        wait_for(p, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat-list .msg')) == 2, 'the message goes out after unmute')
        self.assertEqual(text_of(p, 'chat-error'), '')

    def test_08_counter_against_the_limit(self):
        p = self.p
        limit = self.info['limits']['chat_chars']
        p.execute_script('const b = document.getElementById("chat-input"); b.value = "x".repeat(arguments[0] + 1);'
                         'b.dispatchEvent(new Event("input"));', limit)
        self.assertIn('over', p.find_element(By.ID, 'chat-counter').get_attribute('class'))
        p.find_element(By.ID, 'chat-send').click()
        wait_for(p, lambda d: str(limit) in (text_of(d, 'chat-error') or ''), 'a too-long message is refused kindly')
        p.execute_script('const b = document.getElementById("chat-input"); b.value = "";'
                         'b.dispatchEvent(new Event("input"));')

    def test_09_close_and_reveal(self):
        p, m, s = self.p, self.m, self.s
        self.moderator_key('c')
        wait_for(p, lambda d: attr(d, '#voting-badge', 'data-state') == 'closed', 'the participant sees voting closed')
        self.assertTrue(p.execute_script('return [...document.querySelectorAll(".vote-btn")].every(b => b.disabled)'))
        self.assertEqual(attr(p, '.vote-btn[data-choice="disagree"]', 'aria-pressed'), 'true', 'the own vote stays marked')
        wait_for(p, lambda d: 'gesloten' in (text_of(d, 'vote-status') or '') or 'closed' in (text_of(d, 'vote-status') or ''),
                 'the closed state in words')
        self.assertFalse(visible(p, 'results'), 'no results before the reveal')
        self.moderator_key('r')
        wait_for(p, lambda d: visible(d, 'results'), 'the participant sees the results')
        wait_for(p, lambda d: d.execute_script(
            'const r = document.querySelector(\'#bars .bar-row[data-choice="disagree"] .bar-value\');'
            'return r && r.textContent.startsWith("100");'), 'disagree at 100%')
        wait_for(p, lambda d: '100' in (text_of(d, 'live') or ''), 'the results are announced (aria-live)')
        wait_for(s, lambda d: visible(d, 'results'), 'the screen shows the results')
        wait_for(s, lambda d: d.execute_script(
            'const r = document.querySelector(\'#bars .bar-row[data-choice="disagree"] .bar-value\');'
            'return r && r.textContent.startsWith("100");'), 'the screen shows disagree at 100%')
        wait_for(m, lambda d: attr(d, '#btn-reveal', 'aria-pressed') == 'true', 'the console shows the results revealed')
        # Let the bars finish their animation before the screenshots.
        time.sleep(1.3)

    def test_10_reload_keeps_identity_and_votes(self):
        p = self.p
        before = json.loads(p.execute_script('return sessionStorage.getItem("stelling.participant")'))
        p.refresh()
        wait_for(p, lambda d: attr(d, '#conn', 'data-state') == 'online', 'reconnected after the reload')
        self.assertFalse(visible(p, 'join'), 'no join form after a reload')
        wait_for(p, lambda d: NAME in (text_of(d, 'you') or ''), 'the same name')
        wait_for(p, lambda d: attr(d, '.vote-btn[data-choice="disagree"]', 'aria-pressed') == 'true', 'the same vote')
        wait_for(p, lambda d: visible(d, 'results'), 'the results are still shown')
        after = json.loads(p.execute_script('return sessionStorage.getItem("stelling.participant")'))
        self.assertEqual(before['resume'], after['resume'])
        wait_for(p, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#chat-list .msg.own')) == 2, 'the chat history, own marked')
        wait_for(self.m, lambda d: re.search(r'\b1\b', text_of(d, 'present') or ''), 'still one participant present')

    def test_11_dropped_connection_reconnects(self):
        p = self.p
        p.execute_script('window.stellingDebug.connection.socket.close()')
        wait_for(p, lambda d: attr(d, '#conn', 'data-state') in ('waiting', 'connecting'), 'the lost connection is shown')
        wait_for(p, lambda d: attr(d, '#conn', 'data-state') == 'online', 'reconnected by itself', timeout=WAIT * 2)
        wait_for(p, lambda d: attr(d, '.vote-btn[data-choice="disagree"]', 'aria-pressed') == 'true', 'the same vote')

    def test_12_screenshots(self):
        p, m, s = self.p, self.m, self.s
        for width, height in (PHONE, DESKTOP):
            size = '%dx%d' % (width, height)
            for role, driver in (('participant', p), ('moderator', m), ('screen', s)):
                viewport(driver, width, height)
                time.sleep(0.4)
                driver.execute_script('window.scrollTo(0, 0)')
                self.shot(driver, '%s-%s' % (role, size))
        viewport(s, 1920, 1080)
        time.sleep(0.4)
        self.shot(s, 'screen-1920x1080')
        for driver in (p, m, s):
            viewport(driver, *DESKTOP)
        # The join page, in a fresh browser (no identity yet).
        driver = make_driver(*PHONE)
        try:
            driver.get(BASE + '/')
            wait_for(driver, lambda d: visible(d, 'join-name'), 'the join form')
            self.shot(driver, 'join-360x740')
            viewport(driver, *DESKTOP)
            time.sleep(0.3)
            self.shot(driver, 'join-1366x768')
            self.assertEqual([e for e in driver.get_log('browser') if e['level'] == 'SEVERE'], [])
        finally:
            driver.quit()
        shots = sorted(os.listdir(SHOTS))
        for role in ('participant', 'moderator', 'screen'):
            for size in ('360x740', '1366x768'):
                self.assertIn('%s-%s.png' % (role, size), shots)

    def test_13_moderator_adds_and_shortcuts_ignore_typing(self):
        m = self.m
        before = len(m.find_elements(By.CSS_SELECTOR, '#statement-list .st-item'))
        current = text_of(m, 'current-text')
        box = m.find_element(By.ID, 'add-text')
        box.send_keys('Nieuwe stelling: samen leren kost tijd, en die tijd moet er zijn.')
        time.sleep(0.3)
        self.assertEqual(text_of(m, 'current-text'), current, 'typing "n" in a field does not advance')
        m.find_element(By.CSS_SELECTOR, '#add-form button[type="submit"]').click()
        wait_for(m, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#statement-list .st-item')) == before + 1,
                 'the statement is added live')
        wait_for(self.p, lambda d: 'van %d' % (before + 1) in (text_of(d, 'statement-label') or '')
                 or 'of %d' % (before + 1) in (text_of(d, 'statement-label') or ''), 'the participant sees the new count')

    def test_14_announcement(self):
        m = self.m
        m.find_element(By.ID, 'announce-text').send_keys('De pauze duurt tot 14:40.')
        m.find_element(By.CSS_SELECTOR, '#announce-form button[type="submit"]').click()
        wait_for(self.p, lambda d: visible(d, 'announcement') and text_of(d, 'announcement-text') == 'De pauze duurt tot 14:40.',
                 'the participant sees the announcement')
        wait_for(self.s, lambda d: text_of(d, 'announcement') == 'De pauze duurt tot 14:40.', 'the screen shows it')
        self.shot(self.p, 'participant-announcement-1366x768')
        m.find_element(By.ID, 'announce-remove').click()
        wait_for(self.p, lambda d: not visible(d, 'announcement'), 'the announcement is removed')

    def test_15_goto_and_language(self):
        m, p = self.m, self.p
        buttons = m.find_elements(By.CSS_SELECTOR, '#statement-list .st-item button')
        buttons[1].click()
        wait_for(p, lambda d: text_of(d, 'statement-text') == self.statements[1], 'goto shows the second statement')
        self.assertFalse(visible(p, 'results'), 'its results start hidden')
        p.find_element(By.ID, 'lang').click()
        wait_for(p, lambda d: d.execute_script('return document.documentElement.lang') == 'en', 'English')
        self.assertEqual(p.find_element(By.CSS_SELECTOR, '.vote-btn[data-choice="agree"] .vote-text').text, 'Agree')
        self.shot(p, 'participant-en-1366x768')
        p.refresh()
        wait_for(p, lambda d: attr(d, '#conn', 'data-state') == 'online', 'online again')
        self.assertEqual(p.execute_script('return document.documentElement.lang'), 'en', 'the choice is kept')
        p.find_element(By.ID, 'lang').click()
        wait_for(p, lambda d: d.execute_script('return document.documentElement.lang') == 'nl', 'back to Dutch')

    def test_16_reduced_motion(self):
        s = self.s
        s.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': [{'name': 'prefers-reduced-motion', 'value': 'reduce'}]})
        duration = s.execute_script(
            'const e = document.querySelector(".bar-fill") || document.body; return getComputedStyle(e).transitionDuration;')
        self.assertTrue(all(float(part.strip().rstrip('ms') or 0) < 0.05 for part in duration.split(',')),
                        'no transition with prefers-reduced-motion: %s' % duration)
        s.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': []})

    def test_17_labels_and_focus(self):
        for role, driver in self.drivers.items():
            unlabelled = driver.execute_script('''
                return [...document.querySelectorAll('input, select, textarea, button')]
                  .filter(e => !e.closest('[hidden]'))
                  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                               && !e.getAttribute('aria-labelledby') && !(e.textContent || '').trim())
                  .map(e => e.outerHTML.slice(0, 80));''')
            self.assertEqual(unlabelled, [], role)
        # A visible focus indicator on a button (keyboard focus).
        p = self.p
        p.find_element(By.TAG_NAME, 'body').send_keys(Keys.TAB)
        outline = p.execute_script('const e = document.activeElement; const s = getComputedStyle(e);'
                                   'return [e.tagName, s.outlineStyle, s.outlineWidth];')
        self.assertNotEqual(outline[1], 'none', 'focus is visible: %s' % outline)

    def test_18_exports(self):
        m = self.m
        downloads = os.path.abspath(os.path.join(OUT, 'downloads'))
        os.makedirs(downloads, exist_ok=True)
        for old in os.listdir(downloads):
            os.remove(os.path.join(downloads, old))
        m.execute_cdp_cmd('Browser.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': downloads})
        expected = {'results.csv': 'disagree_pct', 'votes.csv': ',disagree,', 'chat.csv': 'Tweede bericht',
                    'session.json': '"statements"', 'report.html': '<'}
        for name, needle in expected.items():
            button = m.find_element(By.CSS_SELECTOR, '[data-export="%s"]' % name)
            button.click()
            wait_for(m, lambda d: not button.get_attribute('disabled')
                     and text_of(d, 'export-feedback') and '…' not in text_of(d, 'export-feedback'),
                     'the export %s finishes' % name)
            status, _, _ = http_get('/export/' + name, {'Authorization': 'Bearer ' + KEY})
            message = text_of(m, 'export-feedback')
            print('  export %s: HTTP %s, shown: %s' % (name, status, message))
            if status == 200:
                self.assertNotIn('error', m.find_element(By.ID, 'export-feedback').get_attribute('class'), message)
                stem, suffix = os.path.splitext(name)
                prefix = 'stelling-' + stem + '-'

                def saved(_):
                    for file in os.listdir(downloads):
                        if file.startswith(prefix) and file.endswith(suffix):
                            return os.path.join(downloads, file)
                    return None
                path = wait_for(m, saved, 'the download of %s is saved' % name)
                with open(path, encoding='utf-8-sig') as handle:
                    self.assertIn(needle, handle.read(), name)
            else:
                self.assertIn(str(status), message, 'a kind error names the status')
        status, _, _ = http_get('/export/results.csv')
        self.assertIn(status, (401, 404, 503), 'exports without the key are refused (or not there yet)')
        status, _, _ = http_get('/export/results.csv', {'Authorization': 'Bearer not-the-key'})
        self.assertIn(status, (401, 404, 503), 'exports with a wrong key are refused (or not there yet)')

    def test_19_rate_limit_is_explained(self):
        p = self.p
        box = p.find_element(By.ID, 'chat-input')
        for attempt in range(12):
            box.send_keys('Bericht %d' % attempt)
            box.send_keys(Keys.ENTER)
            wait_for(p, lambda d: not d.find_element(By.ID, 'chat-send').get_attribute('disabled'), 'the send finishes')
            if text_of(p, 'chat-error'):
                break
        message = text_of(p, 'chat-error')
        self.assertTrue('snel' in message or 'fast' in message, 'a kind rate-limit message: %r' % message)
        p.execute_script('const b = document.getElementById("chat-input"); b.value = "";'
                         'b.dispatchEvent(new Event("input"));')

    def test_20_events_split_on_newlines(self):
        batch = '{"type":"presence","present":3}\n\n{"type":"hidden","message":4}\nnot json\n{"type":"ack","ref":"r9"}\n'
        events = self.p.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'import("/js/connection.js").then(m => done(m.splitEvents(arguments[0]).map(e => e.type)), e => done(String(e)));',
            batch)
        self.assertEqual(events, ['presence', 'hidden', 'ack'])

    def test_99_no_console_errors(self):
        severe = self.severe_console_entries()
        for role, entry in self.console:
            if entry.get('level') in ('SEVERE', 'WARNING'):
                print('  console %s %s: %s' % (role, entry['level'], entry['message']))
        self.assertEqual(severe, [])


def run_tests(test_class):
    """Runs one session's tests in order; prints the closing line run.sh adds up."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_class)
    result = unittest.TextTestRunner(verbosity=2, failfast=False).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == '__main__':
    sys.exit(run_tests(BrowserTests))
