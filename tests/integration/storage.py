"""Cloud storage peers for the backend tests, started on loopback and stopped
by the tests: Azurite (Azure Blob Storage), s3rver (S3), the fault and
signature proxy in front of either (tests/storage/proxy.mjs) and a stand-in
for Entra ID's token endpoints (tests/storage/token_server.mjs). Each gives
backspan the environment it reads its credentials from, and the tests a
small client of their own to look at, damage or copy stored objects."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BIN_DIR = os.path.join(ROOT, "node_modules/.bin")
PROXY = os.path.join(ROOT, "tests/storage/proxy.mjs")
TOKEN_SERVER = os.path.join(ROOT, "tests/storage/token_server.mjs")
# Azurite's account and key, which Microsoft publishes for the emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
S3_KEY_ID, S3_SECRET = "S3RVER", "S3RVER"  # s3rver's built-in account


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


def start_node(script, *args, env=None):
    """A node peer that prints {"port": N} first; (process, port)."""
    proc = subprocess.Popen(["node", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{script} did not start: {proc.stderr.read().decode(errors='replace')[-2000:]}")
    return proc, json.loads(line)["port"]


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


def http(method, url, body=b"", headers=None, timeout=60, context=None):
    """(status, headers with lower-case names, body); HTTP errors are answers."""
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class Azurite:
    """Azurite's blob service. With `tls` (cert, key) it speaks https, and
    with `oauth` it also takes Entra ID bearer tokens."""

    def __init__(self, tmp, tls=None, oauth=False):
        self.dir = os.path.join(tmp, "azurite")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        args = [os.path.join(BIN_DIR, "azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                "--location", self.dir, "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl"]
        if tls:
            args += ["--cert", tls[0], "--key", tls[1]]
        if oauth:
            args += ["--oauth", "basic"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for_port(self.port, self.proc, "azurite")
        self.scheme = "https" if tls else "http"
        self.endpoint = f"{self.scheme}://127.0.0.1:{self.port}/{DEV_ACCOUNT}"

    def stop(self):
        stop(self.proc)

    def env(self, endpoint=None):
        """backspan's credentials: the account's key, through `endpoint` (a proxy) if given."""
        ep = endpoint or self.endpoint
        return {"AZURE_STORAGE_CONNECTION_STRING":
                f"DefaultEndpointsProtocol={self.scheme};AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};BlobEndpoint={ep}"}

    def sas(self, container, permissions, expiry_hours=2):
        """A service SAS for `container` (e.g. permissions "racwl": no delete)."""
        start = (datetime.datetime.utcnow() - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        expiry = (datetime.datetime.utcnow() + datetime.timedelta(hours=expiry_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        version = "2021-12-02"
        resource = f"/blob/{DEV_ACCOUNT}/{container}"
        # Service SAS string-to-sign for version 2020-12-06 and later.
        fields = [permissions, start, expiry, resource, "", "", "", version, "c", "", "", "", "", "", "", ""]
        sig = base64.b64encode(hmac.new(base64.b64decode(DEV_KEY), "\n".join(fields).encode(), hashlib.sha256).digest())
        return urllib.parse.urlencode({"sv": version, "st": start, "se": expiry, "sr": "c", "sp": permissions,
                                       "sig": sig.decode()})

    # The tests' own Shared Key client, to look at and damage stored blobs.
    def _request(self, method, path, query=None, body=b"", headers=None):
        headers = dict(headers or {})
        headers["x-ms-date"] = datetime.datetime.utcnow().strftime("%a, %d %b %Y %H:%M:%S GMT")
        headers["x-ms-version"] = "2021-12-02"
        if method in ("PUT", "POST"):  # urllib would add a Content-Type of its own
            headers["Content-Type"] = "application/octet-stream"
        url_path = f"/{DEV_ACCOUNT}{path}"
        canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted((k.lower(), v) for k, v in headers.items()
                                                                     if k.lower().startswith("x-ms-")))
        resource = f"/{DEV_ACCOUNT}{url_path}" + "".join(f"\n{k}:{v}" for k, v in sorted((query or {}).items()))
        sts = "\n".join([method, "", "", str(len(body)) if body else "", "", headers.get("Content-Type", ""), "", "",
                         "", "", "", ""]) + "\n" + canonical_headers + resource
        sig = base64.b64encode(hmac.new(base64.b64decode(DEV_KEY), sts.encode(), hashlib.sha256).digest()).decode()
        headers["Authorization"] = f"SharedKey {DEV_ACCOUNT}:{sig}"
        url = f"{self.scheme}://127.0.0.1:{self.port}{urllib.parse.quote(url_path)}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if body:
            headers["x-ms-blob-type"] = "BlockBlob"
        return http(method, url, body, headers)

    def create_container(self, container):
        code, _, body = self._request("PUT", f"/{container}", {"restype": "container"})
        assert code in (201, 409), (code, body[:300])

    def list(self, container, prefix=""):
        names, marker = [], ""
        while True:
            q = {"restype": "container", "comp": "list", "prefix": prefix}
            if marker:
                q["marker"] = marker
            code, _, body = self._request("GET", f"/{container}", q)
            if code == 404:
                return []
            assert code == 200, (code, body[:300])
            root = ET.fromstring(body)
            names += [b.findtext("Name") for b in root.iter("Blob")]
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return names

    def get(self, container, key):
        code, _, body = self._request("GET", f"/{container}/{key}")
        assert code == 200, (code, key)
        return body

    def put(self, container, key, data):
        code, _, body = self._request("PUT", f"/{container}/{key}", body=data, headers={"x-ms-blob-type": "BlockBlob"})
        assert code == 201, (code, body[:300])

    def delete(self, container, key):
        code, _, _ = self._request("DELETE", f"/{container}/{key}")
        assert code in (202, 404), code


class S3rver:
    """s3rver, with its directory of buckets."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "s3rver")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        # Node 20 refuses s3rver's DES continuation tokens without the legacy provider.
        env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
        self.proc = subprocess.Popen([os.path.join(BIN_DIR, "s3rver"), "--directory", self.dir, "--address", "127.0.0.1",
                                      "--port", str(self.port), "--silent"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        wait_for_port(self.port, self.proc, "s3rver")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop(self.proc)

    def env(self, endpoint=None):
        return {"AWS_ACCESS_KEY_ID": S3_KEY_ID, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint or self.endpoint}

    # s3rver takes unsigned requests: the tests' own client needs no signer.
    def put_bucket(self, bucket):
        code, _, body = http("PUT", f"{self.endpoint}/{bucket}", b"")
        assert code in (200, 409), (code, body[:300])

    def list(self, bucket, prefix=""):
        keys, token = [], ""
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            code, _, body = http("GET", f"{self.endpoint}/{bucket}?" + urllib.parse.urlencode(q))
            if code == 404:
                return []
            assert code == 200, (code, body[:300])
            root = ET.fromstring(body)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            keys += [c.findtext(f"{ns}Key") for c in root.iter(f"{ns}Contents")]
            if root.findtext(f"{ns}IsTruncated") != "true":
                return keys
            token = root.findtext(f"{ns}NextContinuationToken")

    def get(self, bucket, key):
        code, _, body = http("GET", f"{self.endpoint}/{bucket}/{urllib.parse.quote(key)}")
        assert code == 200, (code, key)
        return body

    def put(self, bucket, key, data):
        code, _, body = http("PUT", f"{self.endpoint}/{bucket}/{urllib.parse.quote(key)}", data,
                             {"Content-Type": "application/octet-stream"})
        assert code == 200, (code, body[:300])

    def delete(self, bucket, key):
        code, _, _ = http("DELETE", f"{self.endpoint}/{bucket}/{urllib.parse.quote(key)}")
        assert code in (200, 204), code


class Proxy:
    """tests/storage/proxy.mjs in front of `upstream` (kind "azure" or "s3")."""

    def __init__(self, upstream, kind):
        args = ["--upstream", upstream, "--kind", kind]
        if kind == "s3":
            args += ["--access-key", S3_KEY_ID, "--secret-key", S3_SECRET]
        self.proc, self.port = start_node(PROXY, *args)
        base = upstream.split("://", 1)[1]
        path = base[base.index("/"):] if "/" in base else ""
        self.url = f"http://127.0.0.1:{self.port}{path}"  # the endpoint backspan is given
        self.control = f"http://127.0.0.1:{self.port}/__proxy"

    def stop(self):
        stop(self.proc)

    def _post(self, what, obj):
        code, _, body = http("POST", f"{self.control}/{what}", json.dumps(obj).encode())
        assert code == 200, body
        return json.loads(body)

    def faults(self, *rules):
        """Rules: {method, path (regex), query (regex), action: status|reset_request|reset_response|
        stall|truncate|wrong_length, status, retry_after, retry_after_ms, ms, times, skip}."""
        return self._post("faults", list(rules))

    def deny_delete(self, on=True):
        return self._post("deny-delete", {"on": on})

    def stats(self):
        return json.loads(http("GET", f"{self.control}/stats")[2])

    def reset_stats(self):
        return self._post("reset-stats", {})


class TokenServer:
    """Entra ID's token endpoints, minting tokens Azurite accepts."""
    TENANT, CLIENT_ID, CLIENT_SECRET, IDENTITY_HEADER = "t-0000", "app-1111", "not-a-real-secret", "id-header-2222"

    def __init__(self, lifetime=3600):
        self.proc, self.port = start_node(TOKEN_SERVER, "--tenant", self.TENANT, "--client-id", self.CLIENT_ID,
                                          "--client-secret", self.CLIENT_SECRET, "--identity-header",
                                          self.IDENTITY_HEADER, "--lifetime", str(lifetime))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop(self.proc)

    def stats(self):
        return json.loads(http("GET", f"{self.url}/__stats")[2])


class CloudRepo:
    """A repository location in a container or bucket of `store` (Azurite or
    S3rver), reached through `endpoint` (a proxy) or directly; its objects,
    for tests that look at or damage them."""

    def __init__(self, store, container, prefix, endpoint=None):
        self.store, self.container, self.prefix = store, container, prefix
        self.kind = "azure" if isinstance(store, Azurite) else "s3"
        self.location = f"{self.kind}://{container}/{prefix}"
        self.endpoint = endpoint

    def env(self):
        return {"BACKSPAN_REPOSITORY": self.location, **self.store.env(self.endpoint)}

    def keys(self, under=""):
        """Keys below the repository's prefix, relative to it."""
        full = f"{self.prefix}/{under}"
        return [k[len(self.prefix) + 1:] for k in self.store.list(self.container, full)]

    def read(self, rel):
        return self.store.get(self.container, f"{self.prefix}/{rel}")

    def write(self, rel, data):
        self.store.put(self.container, f"{self.prefix}/{rel}", data)

    def remove(self, rel):
        self.store.delete(self.container, f"{self.prefix}/{rel}")

    def copy_to(self, prefix):
        """The whole repository, copied to another prefix (what the fault tests' copy_repo does locally)."""
        other = CloudRepo(self.store, self.container, prefix, self.endpoint)
        for rel in other.keys():
            other.remove(rel)
        for rel in self.keys():
            other.write(rel, self.read(rel))
        return other

