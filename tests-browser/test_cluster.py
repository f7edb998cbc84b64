#!/usr/bin/env python3
"""Real-browser test of a cluster node's console (issue 16, docs/SCALING.md) on a server of its
own: a real redis-server (appendonly yes, appendfsync always) on a free loopback port in a
temporary folder, and one `stelling serve` node of an event in it. While Redis is paused
(SIGSTOP) the node's /healthz answers 503 "redis unreachable" and the moderator console shows a
banner that says so, in Dutch and, after the language button, in English; a participant's vote
waits for Redis. After SIGCONT the banner goes, and the vote is acknowledged.

Run by tests-browser/run.sh (STELLING_BIN, TEST_OUTPUT; the shared server's STELLING_URL is not
used). Every wait is bounded. Ends with a line "N passed, N failed".
"""
import os
import re
import shutil
import signal
import socket
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
PORT, KEY = own_server('cluster-browser-test-key')
import test_browser  # noqa: E402
from test_browser import BASE, OUT, SHOTS, DESKTOP, PHONE, PageTests, make_driver, wait_for, text_of, visible, attr, http_get, run_tests  # noqa: E402
from test_panel import join, session_value  # noqa: E402

# /healthz answers 503 while Redis is away, and Chromium reports that fetch as a failed load.
test_browser.ALLOWED_CONSOLE.append(re.compile(r'/healthz - Failed to load resource'))

BIN = os.environ.get('STELLING_BIN') or os.path.join(ROOT, '.build', 'debug', 'stelling')
REDIS = shutil.which('redis-server') or '/usr/bin/redis-server'
REDIS_PORT = free_port()
CONFIG = """title: Een evenement op twee knooppunten
language: nl
database: {database}
web_root: {web}
statements:
  - id: s1
    text: Redis mag even weg zijn
cluster:
  redis: redis://127.0.0.1:{redis_port}/0
  event: browser-test
  node: a
"""
# Redis notices nothing when paused; the node's health says so within seconds, the console asks
# /healthz every 5 s.
BANNER_WAIT = 40


class ClusterConsoleTests(PageTests):
    """One session, in order."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(SHOTS, exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix='stelling-cluster-browser-')
        cls.redis_log = open(os.path.join(OUT, 'cluster-redis.log'), 'w')
        cls.redis = subprocess.Popen([
            REDIS, '--port', str(REDIS_PORT), '--bind', '127.0.0.1', '--dir', cls.work, '--appendonly', 'yes',
            '--appendfsync', 'always', '--save', '', '--daemonize', 'no'], stdout=cls.redis_log, stderr=cls.redis_log)
        deadline = time.time() + 10
        while not cls.redis_answers():
            if time.time() > deadline:
                raise AssertionError('redis-server did not answer on port %d; see %s' % (REDIS_PORT, cls.redis_log.name))
            time.sleep(0.1)
        config = os.path.join(cls.work, 'node-a.yaml')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write(CONFIG.format(database=os.path.join(cls.work, 'node-a.sqlite'), web=os.path.join(ROOT, 'web'),
                                       redis_port=REDIS_PORT))
        cls.log = open(os.path.join(OUT, 'cluster-server.log'), 'w')
        cls.server = subprocess.Popen([BIN, 'serve', '--config', config, '--host', '127.0.0.1', '--port', str(PORT)],
                                      env={**os.environ, 'STELLING_MODERATOR_KEY': KEY}, stdout=cls.log, stderr=cls.log)
        deadline = time.time() + 30
        while True:
            try:
                if http_get('/healthz')[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or cls.server.poll() is not None:
                raise AssertionError('the cluster node did not start; see %s' % cls.log.name)
            time.sleep(0.2)
        cls.drivers = {'moderator': make_driver(*DESKTOP), 'participant': make_driver(*PHONE)}

    @staticmethod
    def redis_answers():
        try:
            with socket.create_connection(('127.0.0.1', REDIS_PORT), timeout=1) as connection:
                connection.sendall(b'PING\r\n')
                return connection.recv(16).startswith(b'+PONG')
        except OSError:
            return False

    drivers = {}
    console = []

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        for name in ('server', 'redis'):
            process = getattr(cls, name, None)
            if not process:
                continue
            if name == 'redis':
                process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for name in ('log', 'redis_log'):
            handle = getattr(cls, name, None)
            if handle:
                handle.close()
        shutil.rmtree(getattr(cls, 'work', ''), ignore_errors=True)

    def banner_problem(self, driver):
        """The console's health banner: its data-problem when shown, else None."""
        return attr(driver, '#store-alert', 'data-problem') if visible(driver, 'store-alert') else None

    def test_1_a_healthy_node_shows_no_banner(self):
        moderator, participant = self.drivers['moderator'], self.drivers['participant']
        moderator.get(BASE + '/moderator#key=' + KEY)
        wait_for(moderator, lambda d: attr(d, '#conn', 'data-state') == 'online', 'the moderator is connected')
        join(participant, 'Rosa Wacht')
        moderator.find_element(By.TAG_NAME, 'body').send_keys('n')
        wait_for(participant, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-choice="agree"]:not([disabled])'),
                 'voting is open for the participant')
        time.sleep(6)  # more than one /healthz poll
        self.assertFalse(visible(moderator, 'store-alert'), 'no banner while Redis answers')

    def test_2_the_banner_shows_while_redis_is_paused(self):
        moderator, participant = self.drivers['moderator'], self.drivers['participant']
        self.redis.send_signal(signal.SIGSTOP)
        try:
            participant.find_element(By.CSS_SELECTOR, '[data-choice="agree"]').click()
            wait_for(moderator, lambda d: self.banner_problem(d) == 'redis', 'the console shows the Redis banner',
                     timeout=BANNER_WAIT)
            self.assertIsNone(session_value(participant, 's.myVotes.s1 || null'), 'the vote waits for Redis')
            status, _, body = http_get('/healthz')
            self.assertEqual(status, 503)
            self.assertIn(b'redis unreachable', body)
            text = text_of(moderator, 'store-alert-text')
            self.assertIn('kan Redis, waarin het evenement staat, niet bereiken', text, 'Dutch first')
            self.assertIn('er gaat niets verloren', text)
            self.assertNotIn('database schrijven', text, 'not the store\'s banner')
            self.assertEqual(attr(moderator, '#store-alert', 'role'), 'alert')
            moderator.save_screenshot(os.path.join(SHOTS, 'moderator-redis-unreachable-1366x768.png'))
            moderator.find_element(By.ID, 'lang').click()
            wait_for(moderator, lambda d: 'cannot reach Redis, which holds the event' in (text_of(d, 'store-alert-text') or ''),
                     'the banner in English after the language button')
            self.assertIn('nothing is lost', text_of(moderator, 'store-alert-text'))
            moderator.find_element(By.ID, 'lang').click()
            wait_for(moderator, lambda d: 'niet bereiken' in (text_of(d, 'store-alert-text') or ''), 'back in Dutch')
        finally:
            self.redis.send_signal(signal.SIGCONT)

    def test_3_the_banner_goes_when_redis_is_back(self):
        moderator = self.drivers['moderator']
        wait_for(moderator, lambda d: not visible(d, 'store-alert'), 'the banner is gone once /healthz is 200',
                 timeout=BANNER_WAIT)
        self.assertEqual(http_get('/healthz')[0], 200)
        wait_for(self.drivers['participant'], lambda d: session_value(d, 's.myVotes.s1 || null') == 'agree',
                 'the vote made while Redis was away is acknowledged')

    def test_9_no_console_errors(self):
        self.assertEqual(self.severe_console_entries(), [])


if __name__ == '__main__':
    sys.exit(run_tests(ClusterConsoleTests))
