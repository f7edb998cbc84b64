"""What the browser tests that start their own server share.

test_browser reads STELLING_URL and STELLING_KEY when it is imported, so a test file that starts
its own server calls own_server() before it imports test_browser.
"""
import os
import socket


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def own_server(key_prefix):
    """Points test_browser at the server this test file will start; returns (port, key)."""
    port = free_port()
    os.environ['STELLING_URL'] = 'http://127.0.0.1:%d' % port
    key = '%s-%d' % (key_prefix, os.getpid())
    os.environ['STELLING_KEY'] = key
    return port, key
