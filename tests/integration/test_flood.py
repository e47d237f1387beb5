"""A flood of malformed requests of every kind, mixed with valid traffic and
200 slow (slowloris) connections (flood.py): no crash, no 5xx for bad input,
every acknowledged trace stored, /healthz answering within 100 ms at the
99th percentile throughout, and memory back near its start once idle."""
import json
import os
import time
import unittest

from flood import flood, rss_mib
from helpers import CliTestCase
from observatory import Observatory

# Under the sanitizers every request is several times slower: fewer of them,
# and memory is ASan's (a quarantine it never returns), not the server's.
SANITIZED = bool(os.environ.get("BACKSPAN_SANITIZED"))
REQUESTS = int(os.environ.get("BACKSPAN_FLOOD_REQUESTS", "1000" if SANITIZED else "10000"))
# docs/observatory.md, "Memory": the budgets of held bodies (256 MiB) and of
# decoding (512 MiB), SQLite's caches, the program. Idle: the program, its
# caches, and what the allocator keeps.
PEAK_BOUND_MIB = 256 + 512 + 160
IDLE_BOUND_MIB = 96


class FloodTest(CliTestCase):
    def test_flood(self):
        obs = Observatory(os.path.join(self.tmp, "obs"), self.env)
        try:
            res, fig = flood(obs.url, obs.proc.pid, requests=REQUESTS, slow=200, log=lambda line: print(line, flush=True))
            self.assertIsNone(obs.proc.poll(), "the server died")
            self.assertEqual(res.five_xx, [], "5xx answers to bad input")
            self.assertEqual(res.valid_failed, [], "valid requests not stored")
            self.assertGreaterEqual(len(res.acked), REQUESTS // 10)
            # Every acknowledged trace is there.
            for trace_id in res.acked:
                code, _, body = obs.request("GET", f"/api/v1/traces/{trace_id}")
                self.assertEqual(code, 200, (trace_id, body[:200]))
            # Each kind of bad input got an answer of its own kind, never a 5xx.
            for kind, statuses in res.statuses.items():
                for status in statuses:
                    self.assertTrue(not isinstance(status, int) or status < 500, (kind, statuses))
            self.assertLess(fig["healthz_p99_ms"], 100, fig)
            if not SANITIZED:
                self.assertLess(fig["rss_peak_mib"], PEAK_BOUND_MIB, fig)
                # Idle, the server gives freed memory back within a few seconds.
                deadline = time.monotonic() + 10
                while rss_mib(obs.proc.pid) >= IDLE_BOUND_MIB and time.monotonic() < deadline:
                    time.sleep(0.5)
                self.assertLess(rss_mib(obs.proc.pid), IDLE_BOUND_MIB, json.dumps(fig))
            code, _, body = obs.request("GET", "/healthz")
            self.assertEqual((code, body), (200, b"ok\n"))
        finally:
            self.assertEqual(obs.stop(), 0)


if __name__ == "__main__":
    unittest.main()
