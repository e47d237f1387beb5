"""`backspan serve` on a free loopback port, and small HTTP helpers."""
import gzip
import json
import os
import signal
import struct
import subprocess
import time
import urllib.error
import urllib.request

from helpers import BIN, CliTestCase


# Set to a function returning extra `serve` flags (["--store", uri] with a
# new database each time) to run a test module's servers on another store.
STORE_FLAGS = None


class Observatory:
    def __init__(self, data_dir, env, *flags):
        self.data_dir = data_dir
        self.env = env
        self.flags = (*(STORE_FLAGS() if STORE_FLAGS else ()), *flags)  # a restart keeps the same store
        self.start()

    def start(self):
        self.proc = subprocess.Popen([BIN, "--json", "serve", "--listen", "127.0.0.1:0", "--data", self.data_dir,
                                      *self.flags], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("serve did not start: " + self.proc.stderr.read().decode(errors="replace"))
        self.url = json.loads(line)["url"]

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes); HTTP errors are returned, not raised."""
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get_json(self, path, status=200):
        code, _, body = self.request("GET", path)
        if code != status:
            raise AssertionError(f"GET {path}: {code} {body[:500]!r}")
        return json.loads(body)

    def post_json_spans(self, request, path="/v1/traces", gzipped=False):
        body = json.dumps(request).encode()
        headers = {"Content-Type": "application/json"}
        if gzipped:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return self.request("POST", path, body, headers)

    def wait_until(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.2)
        return False


class ObservatoryCase(CliTestCase):
    """A test with at most one `serve` at a time in self.obs, stopped when it ends."""

    def setUp(self):
        super().setUp()
        self.obs = None

    def tearDown(self):
        if self.obs:
            self.obs.stop()
        super().tearDown()


def span_request(spans, resource=None, scope="test"):
    """An OTLP/JSON ExportTraceServiceRequest with `spans` (dicts in OTLP/JSON form)."""
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (resource or {"service.name": "test"}).items()]
    return {"resourceSpans": [{"resource": {"attributes": attrs},
                               "scopeSpans": [{"scope": {"name": scope}, "spans": spans}]}]}


def json_span(trace_id, span_id, name, start_ns, end_ns, parent="", attrs=None, status=0, message=""):
    span = {"traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns),
            "attributes": [{"key": k, "value": ({"stringValue": v} if isinstance(v, str) else
                                                {"arrayValue": {"values": [{"stringValue": x} for x in v]}}
                                                if isinstance(v, list) else
                                                {"boolValue": v} if isinstance(v, bool) else
                                                {"intValue": str(v)} if isinstance(v, int) else
                                                {"doubleValue": v})}
                           for k, v in (attrs or {}).items()],
            "status": {"code": status, "message": message}}
    if parent:
        span["parentSpanId"] = parent
    return span


def random_hex(n):
    return os.urandom(n).hex()


# A minimal protobuf writer and reader, for hand-made OTLP bodies and answers.
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, value):
    """Field `num`: a varint for an int, else length-delimited bytes."""
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def fixed64(num, value):
    return varint(num << 3 | 1) + struct.pack("<Q", value)


def read_varint(buf, i):
    """(value, next index) of the varint at buf[i]."""
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i
