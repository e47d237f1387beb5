"""A flood of bad requests against `backspan serve`, mixed with valid traffic
and slow (slowloris) connections, on loopback. Used by test_flood.py, and by
hand: `python3 flood.py --requests 100000` against a running server prints
the same figures."""
import argparse
import gzip
import json
import multiprocessing
import os
import random
import socket
import threading
import time
import urllib.request


def status_mib(pid, field):
    """A memory figure of /proc/PID/status (VmRSS, VmHWM) in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid):
    return status_mib(pid, "VmRSS")


def hwm_mib(pid):
    return status_mib(pid, "VmHWM")


def valid_span_request(trace_id):
    span = {"traceId": trace_id, "spanId": os.urandom(8).hex(), "name": "flood-ok", "kind": 1,
            "startTimeUnixNano": str(time.time_ns() - 10**9), "endTimeUnixNano": str(time.time_ns()),
            "attributes": [{"key": "backspan.job.kind", "value": {"stringValue": "backup"}}]}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}).encode()


def http_request(method, path, body=b"", headers=None, content_length=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: flood\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(body) if content_length is None else content_length}\r\n\r\n"
    return head.encode() + body


def bad_requests(rng):
    """(name, make wire bytes, whether the server may close without an answer) for each kind of bad input.
    The large bodies are made once: the flood measures the server, not this script."""
    pb = "application/x-protobuf"
    js = "application/json"
    good = valid_span_request(os.urandom(16).hex())
    bomb = gzip.compress(b"\0" * (64 << 20), 9)
    deep = b"[" * 200000 + b"]" * 200000
    deep_events = b'{"a":' * 100000 + b"1" + b"}" * 100000
    huge = good.replace(b"flood-ok", b"x" * (8 << 20))
    many_attrs = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": os.urandom(16).hex(), "spanId": os.urandom(8).hex(), "name": "x",
        "startTimeUnixNano": "1", "endTimeUnixNano": "2",
        "attributes": [{"key": f"k{i}", "value": {"stringValue": "v"}} for i in range(50000)]}]}]}]}).encode()
    kinds = [
        ("random bytes", lambda: os.urandom(rng.randint(1, 4096)), True),
        ("random body", lambda: http_request("POST", "/v1/traces", os.urandom(rng.randint(1, 65536)), {"Content-Type": pb}), False),
        ("truncated protobuf", lambda: http_request("POST", "/v1/traces", b"\x0a\xff\xff\x03" + os.urandom(64), {"Content-Type": pb}), False),
        ("deep JSON", lambda: http_request("POST", "/v1/traces", deep, {"Content-Type": js}), False),
        ("deep JSON events", lambda: http_request("POST", "/api/v1/ingest/events", deep_events, {"Content-Type": js}), False),
        ("50k attributes", lambda: http_request("POST", "/v1/traces", many_attrs, {"Content-Type": js}), False),
        ("huge string", lambda: http_request("POST", "/v1/traces", huge, {"Content-Type": js}), False),
        ("invalid UTF-8", lambda: http_request("POST", "/v1/traces", good.replace(b"flood-ok", b"\xff\xfe\xc3\x28"), {"Content-Type": js}), False),
        ("gzip bomb", lambda: http_request("POST", "/v1/traces", bomb, {"Content-Type": pb, "Content-Encoding": "gzip"}), False),
        ("bad gzip", lambda: http_request("POST", "/v1/traces", b"\x1f\x8b" + os.urandom(100),
                                          {"Content-Type": pb, "Content-Encoding": "gzip"}), False),
        ("lying Content-Length, short", lambda: http_request("POST", "/v1/traces", b"abc", {"Content-Type": pb},
                                                             content_length=100000), True),
        ("lying Content-Length, long", lambda: http_request("POST", "/v1/traces", good + os.urandom(500), {"Content-Type": js},
                                                            content_length=len(good)), False),
        ("conflicting Content-Length", lambda: b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                               b"Content-Length: 300\r\n\r\nabc", False),
        ("Transfer-Encoding and Content-Length", lambda: b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", False),
        ("bad chunk", lambda: b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", False),
        ("huge header", lambda: b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX: " + b"a" * (100 << 10) + b"\r\n\r\n", False),
        ("bad query", lambda: http_request("GET", "/api/v1/jobs?since=%ff%00&limit=-5&tag=x&before=zz"), False),
        ("bad trace id", lambda: http_request("GET", "/api/v1/traces/" + "z" * 4000), False),
        ("events garbage", lambda: http_request("POST", "/api/v1/ingest/events", os.urandom(2000), {"Content-Type": js}), False),
        ("alert garbage", lambda: http_request("POST", "/api/v1/ingest/azure-monitor", b'{"schemaId":"azureMonitorCommonAlertSchema",'
                                               b'"data":{"essentials":{"alertId":[1,2]}}}', {"Content-Type": js}), False),
        ("jobs garbage", lambda: http_request("POST", "/api/v1/ingest/azure-backup-jobs",
                                              json.dumps([{"JobUniqueId": "\udcff"}]).encode(), {"Content-Type": js}), False),
        ("in-progress garbage", lambda: http_request("POST", "/v1/traces/in-progress", os.urandom(300), {"Content-Type": pb}), False),
        ("unknown method", lambda: b"BREW /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", False),
        ("HTTP/2 preface", lambda: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False),
    ]
    return kinds


def probe(url, stop, out):
    """GETs /healthz on a new connection every 20 ms until `stop`; puts the latencies (seconds) on `out`."""
    lat = []
    while not stop.is_set():
        t = time.monotonic()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
                r.read()
            lat.append(time.monotonic() - t)
        except OSError:
            lat.append(10.0)
        stop.wait(0.02)
    out.put(lat)


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}       # kind -> {status: count}
        self.five_xx = []        # (kind, status, first bytes)
        self.acked = []          # trace ids answered 200
        self.valid_failed = []
        self.healthz = []        # seconds

    def note(self, kind, status, reply):
        with self.lock:
            by = self.statuses.setdefault(kind, {})
            by[status] = by.get(status, 0) + 1
            if isinstance(status, int) and status >= 500:
                self.five_xx.append((kind, status, reply[:200]))


def send_raw(host, port, wire, timeout=30):
    """Sends `wire` on a new connection and returns the answer's status (or a string saying what happened)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(wire)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while len(reply) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout) as e:
            if not reply:
                return type(e).__name__, b""
    if not reply:
        return "closed", b""
    try:
        return int(reply.split(b" ", 2)[1]), reply
    except (IndexError, ValueError):
        return "garbled", reply


def flood(url, pid, requests=10000, slow=200, workers=16, seed=1, valid_every=10, log=print):
    host, port = url.rsplit("/", 1)[1].rsplit(":", 1)
    port = int(port)
    rng = random.Random(seed)
    kinds = bad_requests(rng)
    res = Results()
    stop = threading.Event()
    rss_before = rss_mib(pid)

    # Slow connections: a header byte now and then, never finished.
    slow_socks = []
    for _ in range(slow):
        s = socket.create_connection((host, port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow_socks.append(s)

    def drip():
        while not stop.wait(1.0):
            for i, s in enumerate(slow_socks):
                try:
                    s.sendall(b"X")
                except OSError:  # timed out by the server: reconnect, as an attacker would
                    try:
                        s.close()
                        slow_socks[i] = socket.create_connection((host, port))
                        slow_socks[i].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    except OSError:
                        pass

    # /healthz is timed from a process of its own, so that this one's
    # threads (and their lock) do not count against the server.
    probe_stop = multiprocessing.Event()
    latencies = multiprocessing.Queue()
    prober = multiprocessing.Process(target=probe, args=(url, probe_stop, latencies))
    prober.start()

    counter = iter(range(requests))
    counter_lock = threading.Lock()

    def work(worker):
        wrng = random.Random(seed * 1000 + worker)
        while True:
            with counter_lock:
                i = next(counter, None)
            if i is None:
                return
            if i % valid_every == 0:
                trace_id = os.urandom(16).hex()
                status, reply = send_raw(host, port, http_request("POST", "/v1/traces", valid_span_request(trace_id),
                                                                  {"Content-Type": "application/json"}))
                if status == 200:
                    with res.lock:
                        res.acked.append(trace_id)
                else:
                    with res.lock:
                        res.valid_failed.append((status, reply[:200]))
                continue
            name, make, _ = kinds[wrng.randrange(len(kinds))]
            status, reply = send_raw(host, port, make())
            res.note(name, status, reply)

    threads = [threading.Thread(target=drip)]
    threads += [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    elapsed = time.monotonic() - t0
    stop.set()
    probe_stop.set()
    res.healthz = latencies.get(timeout=30)
    prober.join()
    threads[0].join()
    for s in slow_socks:
        s.close()
    rss_peak = hwm_mib(pid)
    time.sleep(2)  # let the server close what we left
    lat = sorted(res.healthz)
    p99 = lat[int(len(lat) * 0.99)] if lat else None
    figures = {"requests": requests, "seconds": round(elapsed, 1), "slow_connections": slow,
               "healthz_samples": len(lat), "healthz_p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
               "healthz_p99_ms": round(p99 * 1000, 2) if p99 is not None else None,
               "healthz_max_ms": round(lat[-1] * 1000, 2) if lat else None,
               "valid_acked": len(res.acked), "valid_failed": len(res.valid_failed), "five_xx": len(res.five_xx),
               "rss_before_mib": round(rss_before, 1), "rss_peak_mib": round(rss_peak, 1),
               "rss_after_mib": round(rss_mib(pid), 1)}
    log(json.dumps(figures))
    return res, figures


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url")
    ap.add_argument("pid", type=int)
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--slow", type=int, default=200)
    args = ap.parse_args()
    res, _ = flood(args.url, args.pid, args.requests, args.slow)
    for kind, by in sorted(res.statuses.items()):
        print(f"{kind:40} {by}")
    for x in res.five_xx[:10]:
        print("5xx:", x)


if __name__ == "__main__":
    main()
