"""The observatory's HTTP server under slow, malformed and excessive
connections: the findings that eight slow sockets took it down, that a byte
every few seconds held a connection forever, and that conflicting
Content-Length headers were accepted, each a regression test; and every
limit (docs/observatory.md, "Limits") doing what its flag says."""
import json
import os
import select
import signal
import socket
import threading
import time
import unittest
import urllib.request

from helpers import CliTestCase
from observatory import Observatory, json_span, random_hex, span_request


def healthz_ms(url):
    t = time.monotonic()
    with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
        assert r.read() == b"ok\n"
    return (time.monotonic() - t) * 1000


def reply_of(sock, timeout=10):
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return out


class HttpLimitsTest(CliTestCase):
    def start(self, *flags):
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, *flags)
        host, port = self.obs.url.rsplit("/", 1)[1].rsplit(":", 1)
        self.addr = (host, int(port))

    def tearDown(self):
        if getattr(self, "obs", None):
            self.obs.stop()
        super().tearDown()

    def connect(self):
        return socket.create_connection(self.addr, timeout=10)

    def test_slow_connections_do_not_take_the_server_down(self):
        self.start("--header-timeout", "3s")
        # Found: eight sockets that never finish their header, with eight workers.
        slow = []
        for _ in range(300):
            s = self.connect()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        times = [healthz_ms(self.obs.url) for _ in range(20)]
        self.assertLess(max(times), 100, times)
        code, _, body = self.obs.request("GET", "/api/v1/jobs")
        self.assertEqual(code, 200, body)
        # Found: a byte every few seconds held a connection for good. Now
        # the whole header must arrive within --header-timeout.
        drip = self.connect()
        t0 = time.monotonic()
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n":
            try:
                drip.sendall(bytes([b]))
            except OSError:
                break
            if select.select([drip], [], [], 0.5)[0]:  # the server answered
                break
        answered = time.monotonic() - t0
        reply = reply_of(drip)
        self.assertTrue(reply.startswith(b"HTTP/1.1 408"), reply[:100])
        self.assertLess(answered, 4.5)
        for s in slow:  # each was answered 408 and closed
            self.assertTrue(reply_of(s, 1).startswith(b"HTTP/1.1 408"))
            s.close()

    def test_framing_a_proxy_could_read_differently_is_refused(self):
        self.start()
        for wire, words in (
                (b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 383\r\nContent-Length: 3\r\n\r\nabc", b"conflicting Content-Length"),
                (b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 3\r\nContent-Length: 383\r\n\r\nabc", b"conflicting Content-Length"),
                (b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 b"both Transfer-Encoding and Content-Length"),
                (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", b"folding"),
                (b"GET /healthz HTTP/1.1\nHost: x\n\n", b"LF alone"),
                (b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX: " + b"a" * (70 << 10) + b"\r\n\r\n", b"larger than the limit")):
            with self.connect() as s:
                s.sendall(wire)
                reply = reply_of(s)
            self.assertTrue(reply.startswith(b"HTTP/1.1 4"), (wire[:60], reply[:200]))
            self.assertIn(words, reply)
            self.assertIn(b"Connection: close", reply)
        # A chunked body is read as the RFC says.
        body = json.dumps(span_request([json_span(random_hex(16), random_hex(8), "chunked", 10**18, 10**18 + 5)])).encode()
        with self.connect() as s:
            s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                      b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100]) for i in range(0, len(body), 100)) +
                      b"0\r\n\r\n")
            self.assertTrue(reply_of(s).startswith(b"HTTP/1.1 200"))
        # Keep-alive and pipelining: two requests in one write, two answers in order.
        with self.connect() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = reply_of(s)
        self.assertEqual(reply.count(b"HTTP/1.1 200"), 2, reply)
        self.assertLess(reply.index(b"ok\n"), reply.index(b"ready\n"))

    def test_connection_cap_and_slow_bodies(self):
        self.start("--max-connections", "32", "--body-timeout", "2s", "--min-rate", "1000B")
        held = [self.connect() for _ in range(32)]
        time.sleep(0.3)
        with self.connect() as extra:
            reply = reply_of(extra, 5)
        self.assertTrue(reply.startswith(b"HTTP/1.1 503"), reply[:200])
        self.assertIn(b"too many connections", reply)
        for s in held:
            s.close()
        time.sleep(0.3)
        self.assertLess(healthz_ms(self.obs.url), 100)
        # A body that trickles below --min-rate after its grace: 408.
        with self.connect() as s:
            s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            t0 = time.monotonic()
            try:
                while time.monotonic() - t0 < 8:
                    s.sendall(b" " * 10)
                    time.sleep(0.5)
            except OSError:
                pass
            reply = reply_of(s)
        self.assertTrue(reply.startswith(b"HTTP/1.1 408"), reply[:200])
        self.assertLess(time.monotonic() - t0, 6)
        # The server counts what it refused.
        metrics = self.obs.request("GET", "/metrics")[2].decode()
        self.assertIn('backspan_http_connections_total{result="refused"} 1', metrics)
        self.assertRegex(metrics, r'backspan_http_requests_refused_total\{reason="timeout"\} [1-9]')

    def test_shutdown_answers_what_it_read_in_full(self):
        self.start()
        # A request whose answer waits on the store, and an idle connection.
        idle = self.connect()
        idle.sendall(b"GET /heal")
        results = []
        body = json.dumps(span_request([json_span(random_hex(16), random_hex(8), "last", 10**18, 10**18 + 5)])).encode()

        def post():
            results.append(self.obs.post_json_spans(json.loads(body))[0])
        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        self.obs.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join()
        self.assertEqual(self.obs.proc.wait(timeout=15), 0)
        # Each request either was answered (and then stored), or found the
        # server gone and was never acknowledged: none is lost once a 200 says so.
        self.assertTrue(all(code == 200 for code in results if isinstance(code, int)), results)
        self.assertEqual(reply_of(idle, 2), b"")  # a half-sent request is closed unanswered
        idle.close()
        acknowledged = results.count(200)
        self.obs.start()
        stored = len([j for j in self.obs.get_json("/api/v1/jobs?limit=1000")["jobs"] if j["name"] == "last"])
        self.assertGreaterEqual(stored, min(acknowledged, 1))


if __name__ == "__main__":
    unittest.main()
