#!/usr/bin/env python3
"""Real-browser tests of an event with `questions.moderated: true` and a `public_url`, on a
server of its own (the shared one runs the seminar's configuration): a participant's new
question waits for approval, visible to its asker as waiting and to the console as pending,
not to other participants; G in the console approves it and everyone sees it. The screen and
the console show the configured public address, and /qr.svg encodes it.

Run by tests-browser/run.sh (STELLING_BIN, TEST_OUTPUT; the shared server's STELLING_URL is
not used). Every wait is bounded. Ends with a line "N passed, N failed".
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium.webdriver.common.by import By

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..'))


# test_browser reads STELLING_URL when it is imported: point it at this file's own server first.
sys.path.insert(0, HERE)
from own_server import free_port, own_server  # noqa: E402
PORT, KEY = own_server('moderated-test-key')
from test_browser import BASE, OUT, SHOTS, DESKTOP, PHONE, PageTests, make_driver, wait_for, text_of, visible, attr, http_get, run_tests  # noqa: E402
from test_panel import join, open_questions_tab, question_item, decode_qr  # noqa: E402

BIN = os.environ.get('STELLING_BIN') or os.path.join(ROOT, '.build', 'debug', 'stelling')
PUBLIC = 'https://seminar.example.nl/doe-mee'
CONFIG = """title: Gemodereerde vragen
language: nl
database: {database}
web_root: {web}
public_url: {public}
questions:
  moderated: true
statements:
  - id: s1
    text: Vragen eerst langs de moderator
"""


class ModeratedTests(PageTests):
    """One session, in order."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(SHOTS, exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix='stelling-moderated-')
        config = os.path.join(cls.work, 'event.yaml')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write(CONFIG.format(database=os.path.join(cls.work, 'event.sqlite'), web=os.path.join(ROOT, 'web'), public=PUBLIC))
        cls.log = open(os.path.join(OUT, 'moderated-server.log'), 'w')
        cls.server = subprocess.Popen([BIN, 'serve', '--config', config, '--host', '127.0.0.1', '--port', str(PORT)],
                                      env={**os.environ, 'STELLING_MODERATOR_KEY': KEY}, stdout=cls.log, stderr=cls.log)
        deadline = time.time() + 30
        while True:
            try:
                if http_get('/healthz')[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise AssertionError('the moderated test server did not start; see %s' % cls.log.name)
            time.sleep(0.2)
        cls.drivers = {'asker': make_driver(*PHONE), 'other': make_driver(*DESKTOP), 'moderator': make_driver(*DESKTOP),
                       'screen': make_driver(1920, 1080)}

    drivers = {}
    console = []

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
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

    def test_1_the_public_address_is_shown_and_encoded(self):
        screen, moderator = self.drivers['screen'], self.drivers['moderator']
        screen.get(BASE + '/screen')
        wait_for(screen, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the screen is connected')
        self.assertEqual(text_of(screen, 'hero-url'), PUBLIC, 'the configured public_url, not this browser\'s address')
        self.assertEqual(text_of(screen, 'join-url'), PUBLIC)
        moderator.get(BASE + '/moderator#key=' + KEY)
        wait_for(moderator, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the moderator is connected')
        self.assertEqual(text_of(moderator, 'join-url'), PUBLIC)
        path = os.path.join(SHOTS, 'qr-public-url.png')
        driver = make_driver(800, 800)
        try:
            driver.get(BASE + '/qr.svg')
            driver.save_screenshot(path)
        finally:
            driver.quit()
        self.assertEqual(decode_qr(path), PUBLIC)

    def test_2_a_new_question_waits_for_approval(self):
        asker, other, moderator = self.drivers['asker'], self.drivers['other'], self.drivers['moderator']
        join(asker, 'Fenna Vraagt')
        join(other, 'Gijs Kijkt')
        open_questions_tab(asker)
        open_questions_tab(other)
        text = 'Wie beslist er eigenlijk?'
        asker.find_element(By.ID, 'ask-input').send_keys(text)
        asker.find_element(By.ID, 'ask-send').click()
        waiting = wait_for(asker, lambda d: question_item(d, 'question-list', text), 'the asker sees the question')
        self.assertEqual(waiting.get_attribute('data-state'), 'pending')
        self.assertIn('Wacht op goedkeuring', waiting.text, 'shown as waiting')
        wait_for(moderator, lambda d: question_item(d, 'pending-list', text), 'the console lists it as pending')
        self.assertTrue(visible(moderator, 'pending-wrap'))
        time.sleep(1)
        self.assertIsNone(question_item(other, 'question-list', text), 'other participants do not see it yet')
        asker.save_screenshot(os.path.join(SHOTS, 'participant-question-waiting-360x740.png'))

    def test_3_g_approves_it_for_everyone(self):
        asker, other, moderator = self.drivers['asker'], self.drivers['other'], self.drivers['moderator']
        text = 'Wie beslist er eigenlijk?'
        wait_for(moderator, lambda d: d.execute_script(
            'for (const li of document.querySelectorAll("#pending-list .question")) {'
            '  if (li.querySelector(".q-text").textContent === arguments[0]) { li.focus(); return true; } }'
            'return false;', text), 'the pending question takes the focus')
        moderator.switch_to.active_element.send_keys('g')
        wait_for(moderator, lambda d: question_item(d, 'open-list', text), 'G approves: the question is open')
        wait_for(other, lambda d: question_item(d, 'question-list', text), 'other participants see it now')
        wait_for(asker, lambda d: (question_item(d, 'question-list', text) or d.find_element(By.TAG_NAME, 'body')).get_attribute('data-state') == 'open',
                 'the asker sees it open')
        self.assertFalse(visible(moderator, 'pending-wrap'), 'no pending questions left')


    def test_9_no_console_errors(self):
        self.assertEqual(self.severe_console_entries(), [])


if __name__ == '__main__':
    sys.exit(run_tests(ModeratedTests))
