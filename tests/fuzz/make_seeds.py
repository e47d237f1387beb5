#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets that read text and wire
formats, from the integration tests' fixtures and helpers, and restic's and
borg's own output (the repository formats' and the audit log's seeds come
from make_seeds.cc, which uses the real encoders).
Run from anywhere: tests/fuzz/make_seeds.py [CORPUS_DIR]."""
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from identity import ACCESS  # noqa: E402
from observatory import json_span, span_request  # noqa: E402
from test_observatory import pb_request, pb_span  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "integration", "fixtures", "azure")
T0 = 1_790_000_000_000_000_000


def put(root, target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main(root):
    # HTTP requests; the first byte sets how the fuzzer splits them.
    requests = {
        "get": b"GET /api/v1/jobs?tag=azure.resource_group.name=rg-a&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n",
        "post": b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "chunked": b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\nT: 1\r\n\r\n",
        "pipelined": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "expect": b"PUT /api/v1/access HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        "absolute": b"GET http://h:4318/api/v1/tags?x=%41+b HTTP/1.1\r\nHost: h\r\n\r\n",
    }
    for name, wire in requests.items():
        put(root, "fuzz_http_request", name, b"\x07" + wire)
    body = json.dumps(span_request([json_span("ab" * 16, "cd" * 8, "backup", T0, T0 + 10**9)])).encode()
    put(root, "fuzz_content_coding", "gzip", b"\x00" + gzip.compress(body))
    put(root, "fuzz_content_coding", "deflate", b"\x01" + zlib.compress(body))
    # OTLP: the first byte picks in-progress (1) and a writer's scope (2).
    attrs = {"backspan.job.kind": "backup", "azure.resource_group.name": "rg-a", "backspan.paths": "/srv"}
    spans = [json_span("ab" * 16, "cd" * 8, "backup", T0, T0 + 10**9, attrs=attrs),
             json_span("ab" * 16, "ef" * 8, "scan", T0, T0 + 10**8, parent="cd" * 8, status=2, message="boom")]
    for flag in (0, 1, 2, 3):
        put(root, "fuzz_otlp_json", f"request{flag}", bytes([flag]) + json.dumps(span_request(spans)).encode())
        put(root, "fuzz_otlp_protobuf", f"request{flag}",
            bytes([flag]) + pb_request(pb_span(b"\xab" * 16, b"\xcd" * 8, "backup", T0, T0 + 10**9, attrs=3),
                                       pb_span(b"\xab" * 16, b"\xef" * 8, "scan", T0, T0 + 10**8)))
    for path in glob.glob(os.path.join(FIXTURES, "*alert*.json")):
        with open(path, "rb") as f:
            put(root, "fuzz_azure_alert", os.path.basename(path), f.read())
    for path in glob.glob(os.path.join(FIXTURES, "backup_jobs*")):
        with open(path, "rb") as f:
            put(root, "fuzz_azure_backup_jobs", os.path.basename(path), f.read())
    events = [{"job_id": "sql-nightly", "source": "hook", "type": "started", "resource_group": "rg-a", "host": "db1",
               "tags": {"env": "prod"}, "paths": ["/var/lib/sql"]},
              {"job_id": "sql-nightly", "source": "hook", "type": "progress", "progress": {"files_done": 3}},
              {"job_id": "sql-nightly", "source": "hook", "type": "failed", "message": "disk full", "error_type": "ENOSPC",
               "bytes_added": 5, "time": "2026-11-24T01:00:00Z"}]
    put(root, "fuzz_job_events", "array", json.dumps(events))
    put(root, "fuzz_job_events", "lines", "\n".join(json.dumps(e) for e in events))
    put(root, "fuzz_job_events", "object", json.dumps({"events": events}))
    claims = {"iss": "https://issuer.test", "aud": "backspan", "sub": "agent", "exp": 1_790_000_600, "nbf": 1_789_999_000,
              "iat": 1_790_000_000, "groups": ["sre"], "tid": "t1"}
    put(root, "fuzz_jwt", "claims", b"\x01" + json.dumps(claims).encode())
    put(root, "fuzz_jwt", "token", b"\x00eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0In0.c2ln")
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                      "x": "_ZYGTpS9TtTxsRVY8T4MIhqjd4VwpcXS_-UUKAks820", "y": "Pgf5poG_iLfO4y2--syxcEW9gMs25HSsa_JY0g5lPwY"},
                     {"kty": "OKP", "crv": "Ed25519", "kid": "k2", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                     {"kty": "RSA", "kid": "k3", "e": "AQAB", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl"
                      "UzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}]}
    put(root, "fuzz_jwks", "keys.json", json.dumps(jwks))
    discovery = {"issuer": "https://issuer.test", "jwks_uri": "https://issuer.test/jwks", "token_endpoint": "https://issuer.test/token"}
    put(root, "fuzz_oidc_discovery", "discovery", json.dumps(discovery) + "\n--\n" + json.dumps(jwks))
    put(root, "fuzz_access_config", "access.json", json.dumps(ACCESS))
    plans = {"plans": [{"name": "prod-files", "repository": "/srv/repo", "password_file": "/etc/pw", "paths": ["/srv"],
                        "tags": {"azure.resource_group.name": "rg-a", "env": "prod"},
                        "retention": {"keep-last": 3, "keep-within": "7d"}, "restore_root": "/srv/restores"}]}
    put(root, "fuzz_plans", "plans.json", json.dumps(plans))
    flags = ["24h", "1y5m7d2h", "10GiB", "unlimited", "2026-11-24T10:00:00.5+01:00", "2026-11-24 10:00:00",
             "sftp:user@host:/srv", "azure://c/p", "host,paths,tags", "*.tmp\n--\nsrv/a.tmp", "ab" * 16]
    for i, text in enumerate(flags):
        put(root, "fuzz_flags", f"flag{i}", text)
    put(root, "fuzz_otlp_response", "partial", b"\x0a\x08\x08\x02\x12\x04oops")
    put(root, "fuzz_otlp_response", "json", b'{"partialSuccess":{"rejectedSpans":"2","errorMessage":"x"}}')
    put(root, "fuzz_otlp_response", "retry-after", b"Wed, 21 Oct 2026 07:28:00 GMT")
    # The lines backspan wrap reads, as the real restic and borg write them.
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "f"), "wb") as f:
            f.write(os.urandom(1000))
        env = {"PATH": os.environ["PATH"], "RESTIC_PASSWORD": "pw", "BORG_PASSPHRASE": "pw", "HOME": tmp,
               "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}
        restic = os.path.join(tmp, "restic")
        subprocess.run(["restic", "-r", restic, "init"], env=env, capture_output=True)
        out = subprocess.run(["restic", "-r", restic, "backup", "--json", src], env=env, capture_output=True)
        put(root, "fuzz_wrap_output", "restic-backup", b"\x00" + out.stdout)
        borg = os.path.join(tmp, "borg")
        subprocess.run(["borg", "init", "-e", "repokey", borg], env=env, capture_output=True)
        out = subprocess.run(["borg", "create", "--log-json", "--progress", "--json", borg + "::a", src], env=env,
                             capture_output=True)
        put(root, "fuzz_wrap_output", "borg-create-stdout", b"\x02" + out.stdout)
        put(root, "fuzz_wrap_output", "borg-create-stderr", b"\x0c" + out.stderr)  # borg create, stderr


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus"))
