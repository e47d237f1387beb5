"""Identity and access against a real OpenID Connect provider (oidc-provider
from npm, tests/oidc/provider.mjs): its signed tokens carry group, role and
tenant claims; roles scoped by resource group and tag decide what each
caller reads and writes (an RBAC matrix); every forged or misused token
shape gets a 401 and is audited; a key rotation at the provider is picked up
without a restart; the audit log's chain holds until someone edits it."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import unittest
import urllib.request

from helpers import BIN, CliTestCase, make_certificates, write
from identity import ACCESS, CLIENTS, NOW, Provider, b64
from observatory import Observatory, json_span, random_hex, span_request


class AccessTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.provider = Provider(self.tmp)
        self.access_file = os.path.join(self.tmp, "access.json")
        with open(self.access_file, "w") as f:
            json.dump(ACCESS, f)
        self.data = os.path.join(self.tmp, "obs")
        self.plans_file = os.path.join(self.tmp, "plans.json")
        with open(self.plans_file, "w") as f:
            json.dump({"plans": [self.plan("prod-files", self.repo, "rg-prod", "prod"),
                                 self.plan("dev-files", os.path.join(self.tmp, "repo-dev"), "rg-dev", "dev")]}, f)
        self.obs = Observatory(self.data, self.env, "--oidc-issuer", self.provider.issuer,
                               "--access-config", self.access_file, "--plans", self.plans_file)
        self.tokens = {c: self.provider.token(c) for c in CLIENTS}

    def tearDown(self):
        self.obs.stop()
        self.provider.stop()
        super().tearDown()

    def plan(self, name, repo, rg, env):
        password_file = os.path.join(self.tmp, "password")
        with open(password_file, "w") as f:
            f.write(self.env["BACKSPAN_PASSWORD"] + "\n")
        return {"name": name, "repository": repo, "password_file": password_file,
                "paths": [os.path.join(self.tmp, "src-" + env)],
                "tags": {"azure.resource_group.name": rg, "env": env},
                "retention": {"keep-last": 1} if env == "prod" else {},
                "restore_root": os.path.join(self.tmp, "restores")}

    def call(self, method, path, token=None, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = "Bearer " + token
        code, _, out = self.obs.request(method, path, body, headers)
        return code, out

    def ingest(self, client, rg, name, trace_id=None, parent="", env="prod"):
        trace_id = trace_id or random_hex(16)
        span = json_span(trace_id, random_hex(8), name, (NOW - 60) * 10**9, NOW * 10**9, parent=parent,
                         attrs={"azure.resource_group.name": rg, "env": env, **({} if parent else {"backspan.job.kind": "backup"})})
        code, out = self.call("POST", "/v1/traces", self.tokens[client], json.dumps(span_request([span])).encode())
        return code, json.loads(out) if out else {}, trace_id, span["spanId"]

    def audit(self, *args):
        p = self.run_cli("--json", "audit", "list", "--data", self.data, "--limit", "10000", *args)
        return [json.loads(l) for l in p.stdout.decode().splitlines()]

    def test_rbac_matrix(self):
        # Seed: jobs in two resource groups, and a trace that crosses them.
        self.assertEqual(self.ingest("agent-prod", "rg-prod", "prod-backup")[0], 200)
        self.assertEqual(self.ingest("agent-dev", "rg-dev", "dev-backup", env="dev")[0], 200)
        _, _, cross, root = self.ingest("agent-prod", "rg-prod", "cross-root")
        self.assertEqual(self.ingest("agent-dev", "rg-dev", "cross-child", trace_id=cross, parent=root, env="dev")[0], 200)

        jobs = {"prod-backup", "cross-root", "dev-backup"}  # cross-child has a parent: not a job
        prod = {"prod-backup", "cross-root"}
        # client -> (jobs listed, spans of the crossing trace, /metrics, may ingest rg-prod, rg-dev)
        matrix = {
            "agent-prod": (prod, {"cross-root"}, 200, 200, 403),
            "agent-dev": ({"dev-backup"}, {"cross-child"}, 200, 403, 200),
            "reader-prod": (prod, {"cross-root"}, 200, 403, 403),
            "reader-env": (prod, {"cross-root"}, 200, 403, 403),
            "contrib-prod": (prod, {"cross-root"}, 200, 200, 403),
            "sre-bot": (jobs, {"cross-root", "cross-child"}, 200, 403, 403),
            "admin-bot": (jobs, {"cross-root", "cross-child"}, 200, 200, 200),
            "nobody": (None, None, 403, 403, 403),
        }
        for client, (listed, spans, metrics, ingest_prod, ingest_dev) in matrix.items():
            token = self.tokens[client]
            code, out = self.call("GET", "/api/v1/jobs", token)
            if listed is None:
                self.assertEqual(code, 403, client)
            else:
                self.assertEqual(code, 200, client)
                self.assertEqual({j["name"] for j in json.loads(out)["jobs"] if j["kind"] != "audit"}, listed, client)
            code, out = self.call("GET", f"/api/v1/traces/{cross}", token)
            if spans is None:
                self.assertEqual(code, 403, client)
            else:
                self.assertEqual(code, 200, client)
                self.assertEqual({s["name"] for s in json.loads(out)["spans"]}, spans, client)
            # Trends and freshness slice only what the caller may see.
            code, out = self.call("GET", "/api/v1/trends?metric=job_count&group_by=azure.resource_group.name&since=2h", token)
            if listed is None:
                self.assertEqual(code, 403, client)
            else:
                self.assertEqual(code, 200, (client, out))
                groups = {s["group"] for s in json.loads(out)["series"]}
                want = {"rg-prod"} if "dev-backup" not in listed else {"rg-prod", "rg-dev"}
                if "prod-backup" not in listed:
                    want = {"rg-dev"}
                self.assertEqual(groups, want, client)
            code, out = self.call("GET", "/api/v1/freshness", token)
            self.assertEqual(code, 403 if listed is None else 200, client)
            code, out = self.call("GET", "/metrics", token)
            self.assertEqual(code, metrics, client)
            if code == 200:  # the job counters count the jobs in scope only
                counted = sum(int(float(l.rsplit(" ", 1)[1])) for l in out.decode().splitlines()
                              if l.startswith("backspan_jobs_total{") and 'kind="audit"' not in l)
                self.assertEqual(counted, len(listed), client)
        for client, (listed, spans, metrics, ingest_prod, ingest_dev) in matrix.items():
            for rg, want in (("rg-prod", ingest_prod), ("rg-dev", ingest_dev)):
                code, body, _, _ = self.ingest(client, rg, f"{client}-{rg}")
                if want == 200:
                    self.assertEqual(code, 200, (client, rg, body))
                elif client in ("agent-prod", "agent-dev", "contrib-prod"):
                    # Allowed to write, not there: rejected as spans outside its scope.
                    self.assertEqual(code, 400, (client, rg))
                    self.assertIn("outside the scopes the caller may write", body["message"])
                else:
                    self.assertEqual(code, 403, (client, rg))

        # One request with spans in and out of the agent's scope: a partial success.
        spans = [json_span(random_hex(16), random_hex(8), name, (NOW - 30) * 10**9, NOW * 10**9,
                           attrs={"backspan.job.kind": "backup", "azure.resource_group.name": rg})
                 for name, rg in (("mixed-ok", "rg-prod"), ("mixed-spoofed", "rg-dev"))]
        code, out = self.call("POST", "/v1/traces", self.tokens["agent-prod"], json.dumps(span_request(spans)).encode())
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(out)["partialSuccess"]["rejectedSpans"], "1")
        names = {j["name"] for j in json.loads(self.call("GET", "/api/v1/jobs", self.tokens["admin-bot"])[1])["jobs"]}
        self.assertIn("mixed-ok", names)
        self.assertNotIn("mixed-spoofed", names)

        # Acknowledging an alert takes Operator (or more) where the alert is.
        with open(os.path.join(os.path.dirname(__file__), "fixtures", "azure", "metric_alert_fired.json")) as f:
            alert = json.load(f)
        alert["data"]["essentials"]["targetResourceGroup"] = "rg-prod"
        code, _ = self.call("POST", "/api/v1/ingest/azure-monitor", self.tokens["admin-bot"], json.dumps(alert).encode())
        self.assertEqual(code, 200)
        job = [j for j in json.loads(self.call("GET", "/api/v1/jobs?kind=alert", self.tokens["admin-bot"])[1])["jobs"]][0]
        ack = f"/api/v1/alerts/{job['trace_id']}/{job['job_id']}/acknowledge"
        for client, want in (("reader-prod", 403), ("agent-dev", 404), ("sre-bot", 403), ("agent-prod", 200)):
            code, out = self.call("POST", ack, self.tokens[client], b'{"comment": "looking into it"}')
            self.assertEqual(code, want, (client, out))
        span = json.loads(self.call("GET", f"/api/v1/traces/{job['trace_id']}", self.tokens["reader-prod"])[1])["spans"][0]
        self.assertEqual(span["attributes"]["azure.monitor.alert.acknowledged_by"], "agent-prod")
        self.assertEqual(span["events"][-1]["name"], "alert acknowledged")
        self.assertEqual(span["events"][-1]["attributes"]["message"], "looking into it")

        # A spoofed ingest is audited with the agent's identity.
        spoofed = [r for r in self.audit("--result", "denied", "--subject", "agent-prod") if r["action"] == "ingest.otlp"]
        self.assertTrue(spoofed and "outside the scopes" in spoofed[0]["detail"])
        # Azure's job records, spoofing another resource group: partial.
        with open(os.path.join(os.path.dirname(__file__), "fixtures", "azure", "backup_jobs.json")) as f:
            rows = json.load(f)
        rows[2]["ResourceGroupName"] = "rg-dev"
        code, out = self.call("POST", "/api/v1/ingest/azure-backup-jobs", self.tokens["agent-dev"], json.dumps(rows).encode())
        out = json.loads(out)
        self.assertEqual((code, out["stored"], out["rejected"]), (200, 1, 2))  # only the rg-dev row

        # The audit records are spans too, for those who may read the audit log.
        def audit_jobs(client):
            return json.loads(self.call("GET", "/api/v1/jobs?kind=audit", self.tokens[client])[1])["jobs"]
        self.assertTrue(self.obs.wait_until(lambda: len(audit_jobs("admin-bot")) == 1))
        audit_trace = audit_jobs("admin-bot")[0]["trace_id"]
        self.assertTrue(self.obs.wait_until(lambda: any(
            s["attributes"].get("enduser.id") == "reader-env" for s in
            json.loads(self.call("GET", f"/api/v1/traces/{audit_trace}", self.tokens["admin-bot"])[1])["spans"])))
        spans = json.loads(self.call("GET", f"/api/v1/traces/{audit_trace}", self.tokens["admin-bot"])[1])["spans"]
        denied_span = [s for s in spans if s["attributes"].get("backspan.audit.result") == "denied"][0]
        self.assertEqual(denied_span["status"]["code"], "ERROR")
        self.assertEqual(audit_jobs("sre-bot"), [])  # a Reader of everything is no auditor
        # Nor do the audit log's day-spans count in its trends.
        def trend_jobs(client):
            t = json.loads(self.call("GET", "/api/v1/trends?metric=job_count&since=48h", self.tokens[client])[1])
            return sum(sum(s["jobs"]) for s in t["series"])
        listed = json.loads(self.call("GET", "/api/v1/jobs?since=48h&limit=1000", self.tokens["sre-bot"])[1])["jobs"]
        self.assertEqual(trend_jobs("sre-bot"), len([j for j in listed if j["status"] != "running"]))
        self.assertEqual(trend_jobs("admin-bot"), trend_jobs("sre-bot") + 1)
        self.assertEqual(self.call("GET", f"/api/v1/traces/{audit_trace}", self.tokens["sre-bot"])[0], 404)

        # Reads are audited with who, what and where.
        reads = self.audit("--subject", "reader-env", "--action", "jobs.list")
        self.assertEqual(reads[-1]["result"], "allowed")
        self.assertEqual(reads[-1]["scope"], "env=prod")
        self.assertEqual(reads[-1]["iss"], self.provider.issuer)

    def finish(self, run):
        """Waits for a run the API started; returns it once it ended."""
        admin = self.tokens["admin-bot"]
        self.assertTrue(self.obs.wait_until(
            lambda: json.loads(self.call("GET", f"/api/v1/runs/{run['id']}", admin)[1])["state"] != "running", 60))
        done = json.loads(self.call("GET", f"/api/v1/runs/{run['id']}", admin)[1])
        self.assertEqual(done["state"], "succeeded", done)
        return done

    def test_operations_matrix(self):
        # Two plans in two resource groups, each with its own repository.
        for env, repo in (("prod", self.repo), ("dev", os.path.join(self.tmp, "repo-dev"))):
            self.run_cli("init", "-q", env={"BACKSPAN_REPOSITORY": repo})
            for i in range(3):
                write(os.path.join(self.tmp, f"src-{env}", f"f{i}"), os.urandom(50000))
        # client -> (backup prod-files, backup dev-files, set prod's retention, forget prod's snapshots,
        #            read the access configuration, read the audit log)
        matrix = {
            "agent-prod": (202, 404, 403, 403, 403, 403),
            "agent-dev": (404, 202, 403, 403, 403, 403),
            "reader-prod": (403, 403, 403, 403, 403, 403),
            "reader-env": (403, 403, 403, 403, 403, 403),
            "contrib-prod": (202, 404, 200, 202, 403, 403),
            "sre-bot": (403, 403, 403, 403, 403, 403),
            "admin-bot": (202, 202, 200, 202, 200, 200),
            "nobody": (403, 403, 403, 403, 403, 403),
        }
        runs = []
        for client, (prod, dev, retention, forget, access, audit) in matrix.items():
            token = self.tokens[client]
            for plan, want in (("prod-files", prod), ("dev-files", dev)):
                code, out = self.call("POST", f"/api/v1/plans/{plan}/backup", token, b"")
                self.assertEqual(code, want, (client, plan, out))
                if code == 202:
                    runs.append((client, plan, self.finish(json.loads(out))))
            code, out = self.call("PUT", "/api/v1/plans/prod-files/retention", token, b'{"keep-last": 1}')
            self.assertEqual(code, retention, (client, out))
            code, out = self.call("POST", "/api/v1/plans/prod-files/forget", token, b"")
            self.assertEqual(code, forget, (client, out))
            if code == 202:
                forgot = self.finish(json.loads(out))
                self.assertEqual(len(self.json_out("snapshots")[0]), 1, forgot)  # keep-last 1
            self.assertEqual(self.call("GET", "/api/v1/access", token)[0], access, client)
            self.assertEqual(self.call("GET", "/api/v1/audit?limit=5", token)[0], audit, client)

        # Each run's trace came back to the observatory, in the plan's
        # resource group, saying who started it.
        for client, plan, run in runs:
            self.assertTrue(run["trace_id"], run)
            self.assertEqual(run["triggered_by"], client)
            self.assertEqual(run["summary"]["message_type"], "summary")
            reader = self.tokens["reader-prod" if plan == "prod-files" else "agent-dev"]
            code, out = self.call("GET", f"/api/v1/traces/{run['trace_id']}", reader)
            self.assertEqual(code, 200, out)
            trace = json.loads(out)
            root = [s for s in trace["spans"] if s["name"] == "backup"][0]
            self.assertEqual(root["attributes"]["azure.resource_group.name"], "rg-prod" if plan == "prod-files" else "rg-dev")
            self.assertEqual(root["resource"]["enduser.id"], client, root)
            # Not visible from the other resource group.
            other = self.tokens["agent-dev" if plan == "prod-files" else "reader-prod"]
            self.assertEqual(self.call("GET", f"/api/v1/runs/{run['id']}", other)[0], 404)
        # Runs and plans are listed in scope only.
        plans = json.loads(self.call("GET", "/api/v1/plans", self.tokens["reader-env"])[1])["plans"]
        self.assertEqual([p["name"] for p in plans], ["prod-files"])
        self.assertNotIn("password_file", plans[0])
        listed = json.loads(self.call("GET", "/api/v1/runs", self.tokens["agent-dev"])[1])["runs"]
        self.assertEqual({r["plan"] for r in listed}, {"dev-files"})

        # An Operator restores, into a new directory below the plan's restore root only.
        op = self.tokens["agent-prod"]
        for body in (b'{"target": "../escape"}', b'{"target": "/etc"}', b'{"snapshot": "--help"}',
                     b'{"snapshot": 5}', b'{"target": {"dir": "x"}}'):
            self.assertEqual(self.call("POST", "/api/v1/plans/prod-files/restore", op, body)[0], 400, body)
        code, out = self.call("POST", "/api/v1/plans/prod-files/restore", op, b'{"target": "r1"}')
        self.assertEqual(code, 202, out)
        done = self.finish(json.loads(out))
        self.assertEqual(done["summary"]["files_verified"], 3)
        restored = os.path.join(self.tmp, "restores", "r1", self.tmp.lstrip("/"), "src-prod")
        for i in range(3):
            with open(os.path.join(restored, f"f{i}"), "rb") as a, open(os.path.join(self.tmp, "src-prod", f"f{i}"), "rb") as b:
                self.assertEqual(a.read(), b.read())
        self.assertEqual(self.call("POST", "/api/v1/plans/prod-files/restore", op, b'{"target": "r1"}')[0], 409)
        self.assertEqual(self.call("POST", "/api/v1/plans/prod-files/restore", self.tokens["reader-prod"], b"{}")[0], 403)
        # The dev plan has no retention: forget refuses rather than guess one.
        self.assertEqual(self.call("POST", "/api/v1/plans/dev-files/forget", self.tokens["admin-bot"], b"")[0], 409)

        # A Contributor changes retention; a bad policy changes nothing.
        contrib = self.tokens["contrib-prod"]
        code, out = self.call("PUT", "/api/v1/plans/prod-files/retention", contrib, b'{"keep-daily": 7, "keep-within": "1y2m"}')
        self.assertEqual(code, 200, out)
        self.assertEqual(json.loads(out)["retention"], {"keep-daily": 7, "keep-within": "1y2m"})
        for bad in (b'{"keep-daily": -1}', b'{"keep-forever": 1}', b'{"keep-within": "soon"}', b"[1]"):
            self.assertEqual(self.call("PUT", "/api/v1/plans/prod-files/retention", contrib, bad)[0], 400, bad)
        with open(self.plans_file) as f:
            self.assertEqual(json.load(f)["plans"][0]["retention"], {"keep-daily": 7, "keep-within": "1y2m"})

        # The Owner assigns roles: in force at once; a broken configuration is refused.
        admin = self.tokens["admin-bot"]
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 403)
        config = json.loads(self.call("GET", "/api/v1/access", admin)[1])
        config["assignments"].append({"principal": "app:nobody", "role": "Backup Reader", "scope": {"resource_groups": ["rg-dev"]}})
        self.assertEqual(self.call("PUT", "/api/v1/access", admin, json.dumps(config).encode())[0], 200)
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 200)
        code, out = self.call("PUT", "/api/v1/access", admin, b'{"assignments": [{"principal": "app:x", "role": "Nope"}]}')
        self.assertEqual(code, 400, out)
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 200)
        with open(self.access_file) as f:
            self.assertEqual(json.load(f), config)
        self.assertEqual(self.call("PUT", "/api/v1/access", contrib, json.dumps(ACCESS).encode())[0], 403)

        # Every operation is in the audit log, with who and the outcome.
        code, out = self.call("GET", "/api/v1/audit?action=jobs.backup&limit=1000", admin)
        records = json.loads(out)["records"]
        self.assertEqual(sum(r["result"] == "allowed" for r in records), 5)
        self.assertTrue(all(r["detail"].startswith("run ") for r in records if r["result"] == "allowed"))
        refused = [r for r in records if r["sub"] == "agent-dev" and r["result"] == "denied"]
        self.assertIn("no plan named 'prod-files' in your scope", refused[0]["detail"])
        writes = [r for r in json.loads(self.call("GET", "/api/v1/audit?action=roles.write", admin)[1])["records"]]
        self.assertEqual([r["result"] for r in writes], ["allowed", "error", "denied"])

    def test_attacks_get_401_and_are_audited(self):
        good = self.tokens["reader-prod"]
        self.assertEqual(self.call("GET", "/api/v1/jobs", good)[0], 200)
        claims = json.loads(base64.urlsafe_b64decode(good.split(".")[1] + "=="))
        jwks = json.loads(urllib.request.urlopen(self.provider.issuer + "/jwks", timeout=10).read())
        pub = json.dumps(jwks["keys"][0]).encode()
        hs_input = f"{b64({'alg': 'HS256', 'kid': self.provider.kid})}.{b64(claims)}"
        attacks = {
            "alg none": (f"{b64({'alg': 'none', 'kid': self.provider.kid})}.{b64(claims)}.", "algorithm 'none'"),
            "HMAC with the public key": (
                hs_input + "." + b64(hmac.new(pub, hs_input.encode(), hashlib.sha256).digest()), "algorithm 'HS256'"),
            "unknown kid": (self.provider.sign(claims, {"kid": "no-such-key"}, key="stranger"), "unknown key id"),
            "jku header": (self.provider.sign(claims, {"jku": "http://127.0.0.1:1/jwks"}), "('jku')"),
            "x5u header": (self.provider.sign(claims, {"x5u": "http://127.0.0.1:1/cert"}), "('x5u')"),
            "embedded jwk": (self.provider.sign(claims, {"jwk": jwks["keys"][0]}), "('jwk')"),
            "expired": (self.provider.sign({**claims, "exp": NOW - 3600}), "expired"),
            "not yet valid": (self.provider.sign({**claims, "nbf": NOW + 3600}), "not valid yet"),
            "wrong audience": (self.provider.sign({**claims, "aud": "another-api"}), "another audience"),
            "another issuer": (self.provider.sign({**claims, "iss": "http://127.0.0.1:1"}), "another issuer"),
            "tampered payload": (good.split(".")[0] + "." + b64({**claims, "client_id": "admin-bot"}) + "." +
                                 good.split(".")[2], "signature does not verify"),
            "another key": (self.provider.sign(claims, key="stranger"), "signature does not verify"),
            "another tenant": (self.tokens["other-tenant"], "another tenant"),
        }
        before = len(self.audit("--result", "denied"))
        for name, (token, reason) in attacks.items():
            code, out = self.call("GET", "/api/v1/jobs", token)
            self.assertEqual(code, 401, name)
            self.assertIn(reason, json.loads(out)["error"], name)
        denied = self.audit("--result", "denied")
        self.assertEqual(len(denied) - before, len(attacks))
        self.assertIn("another tenant", denied[-1]["detail"])
        # No token at all, and on ingest too.
        self.assertEqual(self.call("GET", "/api/v1/trends")[0], 401)
        code, _ = self.call("POST", "/v1/traces", attacks["expired"][0], b"{}")
        self.assertEqual(code, 401)
        self.assertEqual(self.call("GET", "/healthz")[0], 200)

    def test_key_rotation_and_tampered_audit_log(self):
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["sre-bot"])[0], 200)
        new_kid = self.provider.command("rotate")["rotated"]
        token = self.provider.token("sre-bot")
        self.assertIn(new_kid, base64.urlsafe_b64decode(token.split(".")[0] + "==").decode())
        # Picked up without a restart, once the rate limit on refetching allows.
        self.assertTrue(self.obs.wait_until(lambda: self.call("GET", "/api/v1/jobs", token)[0] == 200, timeout=20))

        # Tokens signed with the retired key are refused now.
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 401)
        # The access configuration is re-read when it changes: no restart.
        self.tokens["nobody"] = self.provider.token("nobody")
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 403)
        with open(self.access_file, "w") as f:
            json.dump({**ACCESS, "assignments": ACCESS["assignments"] + [
                {"principal": "app:nobody", "role": "Backup Reader", "scope": {"resource_groups": ["rg-prod"]}}]}, f)
        os.utime(self.access_file, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        self.assertTrue(self.obs.wait_until(lambda: self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0] == 200))
        # A broken edit keeps the last good configuration.
        with open(self.access_file, "w") as f:
            f.write("{not json")
        os.utime(self.access_file, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
        time.sleep(1.2)
        self.assertEqual(self.call("GET", "/api/v1/jobs", self.tokens["nobody"])[0], 200)
        # Both changes of configuration are audited.
        reloads = self.audit("--action", "config.reload")
        self.assertEqual([r["result"] for r in reloads], ["allowed", "error"])
        self.assertIn("kept the previous configuration", reloads[1]["detail"])

        p = self.run_cli("audit", "verify", "--data", self.data)
        self.assertIn(b"audit log intact", p.stdout)
        segment = os.path.join(self.data, "audit", "audit-000001.jsonl")
        with open(segment) as f:
            lines = f.readlines()
        lines[0] = lines[0].replace('"result":"allowed"', '"result":"denied"')
        with open(segment, "w") as f:
            f.writelines(lines)
        p = self.run_cli("audit", "verify", "--data", self.data, rc=1)
        self.assertIn(b"TAMPERED: record 1", p.stdout)


    @unittest.skipUnless(os.path.exists("/usr/bin/chromium"), "needs Debian's chromium")
    def test_ui_sign_in_with_a_pasted_token(self):
        self.ingest("agent-prod", "rg-prod", "prod-backup")
        self.ingest("agent-dev", "rg-dev", "dev-backup", env="dev")
        artifacts = os.environ.get("BACKSPAN_ARTIFACTS", os.path.join(os.path.dirname(os.path.abspath(BIN)), "test-artifacts"))
        os.makedirs(artifacts, exist_ok=True)
        script = os.path.join(os.path.dirname(__file__), "../browser/signin.test.mjs")
        p = subprocess.run(["node", script, self.obs.url, self.tokens["reader-prod"], artifacts],
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    @unittest.skipUnless(os.path.exists("/usr/bin/chromium"), "needs Debian's chromium")
    def test_ui_runs_a_plan_for_an_operator_only(self):
        self.run_cli("init", "-q")
        write(os.path.join(self.tmp, "src-prod", "f"), os.urandom(10000))
        artifacts = os.environ.get("BACKSPAN_ARTIFACTS", os.path.join(os.path.dirname(os.path.abspath(BIN)), "test-artifacts"))
        os.makedirs(artifacts, exist_ok=True)
        script = os.path.join(os.path.dirname(__file__), "../browser/plans.test.mjs")
        p = subprocess.run(["node", script, self.obs.url, self.tokens["reader-env"], self.tokens["agent-prod"], artifacts],
                           capture_output=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())


class HttpsIssuerTest(CliTestCase):
    """Issuers such as Microsoft Entra ID are https: discovery and keys come
    over TLS, checked against the system's trusted CAs (or SSL_CERT_FILE)."""

    def test_https_discovery_verifies_the_certificate(self):
        ca, cert, key = make_certificates(self.tmp)
        provider = Provider(self.tmp, tls={"cert": cert, "key": key}, ca=ca)
        access_file = os.path.join(self.tmp, "access.json")
        with open(access_file, "w") as f:
            json.dump(ACCESS, f)
        token = provider.token("sre-bot")
        try:
            self.assertTrue(provider.issuer.startswith("https://"))
            for trusted in (True, False):
                env = dict(self.env, **({"SSL_CERT_FILE": ca} if trusted else {"SSL_CERT_FILE": cert}))
                obs = Observatory(os.path.join(self.tmp, f"obs-{trusted}"), env, "--oidc-issuer", provider.issuer,
                                  "--access-config", access_file)
                try:
                    code, _, out = obs.request("GET", "/api/v1/jobs", None, {"Authorization": "Bearer " + token})
                    if trusted:
                        self.assertEqual(code, 200, out)
                    else:  # a provider whose certificate we cannot verify is no provider
                        self.assertEqual(code, 401, out)
                        self.assertIn("TLS certificate does not verify", json.loads(out)["error"])
                finally:
                    obs.stop()
        finally:
            provider.stop()


class SecureByDefaultTest(CliTestCase):
    def test_no_auth_means_loopback_only(self):
        # Refused before anything listens: no socket is opened beyond loopback.
        p = subprocess.run([BIN, "serve", "--listen", "0.0.0.0:0", "--data", os.path.join(self.tmp, "o")],
                           env=self.env, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"refusing to serve 0.0.0.0 without authentication", p.stderr)
        p = subprocess.run([BIN, "serve", "--oidc-issuer", "http://127.0.0.1:1", "--data", os.path.join(self.tmp, "o")],
                           env=self.env, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"go together", p.stderr)
        proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data", os.path.join(self.tmp, "o")],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertIn(b"serving without authentication (loopback only", proc.stderr.readline())
        finally:
            proc.terminate()
            proc.communicate(timeout=30)


if __name__ == "__main__":
    unittest.main()
