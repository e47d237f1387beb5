"""The identity tests' RBAC and operations matrices and attacks
(test_access.py), unchanged, on a PostgreSQL store: every server they start
gets `--store` with a database of its own on a real PostgreSQL 15."""
import itertools
import json
import os
import shutil
import threading
import time
import unittest

import observatory
from helpers import write
import test_access
from postgres import PostgresServer

_server = None


def setUpModule():
    global _server
    _server = PostgresServer()
    numbers = itertools.count()
    observatory.STORE_FLAGS = lambda: ["--store", _server.new_database(f"access_{next(numbers)}")]


def tearDownModule():
    observatory.STORE_FLAGS = None
    _server.close()


class AccessOnPostgresTest(test_access.AccessTest):
    def test_replicas_keep_an_audit_chain_each_and_verify_checks_every_one(self):
        store_flags, observatory.STORE_FLAGS = observatory.STORE_FLAGS, None
        try:
            second = observatory.Observatory(os.path.join(self.tmp, "obs2"), self.env, *self.obs.flags)
        finally:
            observatory.STORE_FLAGS = store_flags
        try:
            headers = {"Authorization": "Bearer " + self.tokens["sre-bot"]}
            for server in (self.obs, second):
                self.assertEqual(server.request("GET", "/api/v1/jobs", headers=headers)[0], 200)
        finally:
            second.stop()
        dirs = (self.data, second.data_dir)
        p = self.run_cli("audit", "verify", "--data", dirs[0], "--data", dirs[1])
        self.assertEqual(p.stdout.count(b"audit log intact"), 2)
        segment = os.path.join(dirs[1], "audit", "audit-000001.jsonl")
        with open(segment) as f:
            lines = f.readlines()
        with open(segment, "w") as f:
            f.writelines(lines[1:])  # a record removed from one replica's chain
        p = self.run_cli("audit", "verify", "--data", dirs[0], "--data", dirs[1], rc=1)
        self.assertEqual(p.stdout.count(b"audit log intact"), 1)
        self.assertIn(b"TAMPERED", p.stdout)

    def test_replicas_share_role_assignments_plans_and_runs(self):
        # A second replica with files of its own: a stale access file, which
        # the shared configuration replaces at startup.
        access2, plans2 = os.path.join(self.tmp, "access2.json"), os.path.join(self.tmp, "plans2.json")
        with open(access2, "w") as f:
            json.dump({"assignments": []}, f)
        shutil.copy(self.plans_file, plans2)
        flags = [{self.access_file: access2, self.plans_file: plans2}.get(x, x) for x in self.obs.flags]
        store_flags, observatory.STORE_FLAGS = observatory.STORE_FLAGS, None
        try:
            second = observatory.Observatory(os.path.join(self.tmp, "obs2"), self.env, *flags)
        finally:
            observatory.STORE_FLAGS = store_flags
        try:
            def call(server, method, path, client, body=None):
                headers = {"Authorization": "Bearer " + self.tokens[client], "Content-Type": "application/json"}
                code, _, out = server.request(method, path, body, headers)
                return code, out

            def eventually(check, what):
                deadline = time.time() + 10
                while not check():
                    self.assertLess(time.time(), deadline, what)
                    time.sleep(0.2)

            with open(access2) as f, open(self.access_file) as g:
                self.assertEqual(json.load(f), json.load(g))
            self.assertEqual(call(second, "GET", "/api/v1/jobs", "sre-bot")[0], 200)

            # An Owner's assignment through one replica is in force on the other.
            self.assertEqual(call(second, "GET", "/api/v1/jobs", "nobody")[0], 403)
            config = json.loads(call(self.obs, "GET", "/api/v1/access", "admin-bot")[1])
            config["assignments"].append({"principal": "app:nobody", "role": "Backup Reader", "scope": "*"})
            self.assertEqual(call(self.obs, "PUT", "/api/v1/access", "admin-bot", json.dumps(config).encode())[0], 200)
            eventually(lambda: call(second, "GET", "/api/v1/jobs", "nobody")[0] == 200, "the grant reached replica 2")
            with open(access2) as f:
                self.assertEqual(json.load(f), config)

            # An operator's edit of one replica's file is revoked everywhere.
            config["assignments"].pop()
            with open(access2 + ".new", "w") as f:
                json.dump(config, f)
            os.replace(access2 + ".new", access2)
            eventually(lambda: call(self.obs, "GET", "/api/v1/jobs", "nobody")[0] == 403, "the revocation reached replica 1")

            # A broken edit stays in its file: neither replica loses its roles.
            with open(self.access_file, "w") as f:
                f.write('{"assignments": [{"principal": "app:x", "role": "Nope"}]}')
            time.sleep(2.5)
            for server in (self.obs, second):
                self.assertEqual(call(server, "GET", "/api/v1/jobs", "sre-bot")[0], 200)
            with open(access2) as f:
                self.assertEqual(json.load(f), config)

            # A plan's retention set through replica 2 is what replica 1 shows and runs.
            code, out = call(second, "PUT", "/api/v1/plans/prod-files/retention", "contrib-prod", b'{"keep-daily": 3}')
            self.assertEqual(code, 200, out)

            def retention_on_replica_1():
                plans = json.loads(call(self.obs, "GET", "/api/v1/plans", "admin-bot")[1])["plans"]
                return [p["retention"] for p in plans if p["name"] == "prod-files"] == [{"keep-daily": 3}]
            eventually(retention_on_replica_1, "the retention reached replica 1")

            # A run started through one replica is listed and followed through the other.
            self.run_cli("init", "-q", env={"BACKSPAN_REPOSITORY": self.repo})
            write(os.path.join(self.tmp, "src-prod", "f"), os.urandom(50000))
            code, out = call(second, "POST", "/api/v1/plans/prod-files/backup", "admin-bot")
            self.assertEqual(code, 202, out)
            run = json.loads(out)
            eventually(lambda: json.loads(call(self.obs, "GET", f"/api/v1/runs/{run['id']}", "admin-bot")[1])
                       .get("state") == "succeeded", "the run, seen through replica 1, succeeded")
            done = json.loads(call(self.obs, "GET", f"/api/v1/runs/{run['id']}", "admin-bot")[1])
            self.assertTrue(done["trace_id"] and done["summary"], done)
            listed = json.loads(call(self.obs, "GET", "/api/v1/runs", "admin-bot")[1])["runs"]
            self.assertEqual([r["id"] for r in listed], [run["id"]])
            self.assertEqual(call(self.obs, "GET", f"/api/v1/runs/{run['id']}", "agent-dev")[0], 404)  # out of scope

            # A plan running on another replica does not start again; once that
            # replica is gone (its run not refreshed), the run shows as lost.
            db = flags[flags.index("--store") + 1].rsplit("/", 1)[1]
            now = time.time_ns()
            body = json.dumps({"id": "0123456789abcdef", "plan": "prod-files", "command": "backup", "triggered_by": "x",
                               "state": "running", "exit_code": -1, "started_ns": now, "ended_ns": 0, "trace_id": "",
                               "stderr_tail": [], "summary": "", "plan_tags": [["azure.resource_group.name", "rg-prod"]]})
            _server.psql("INSERT INTO documents (name, body, version, updated_ns) VALUES "
                         f"('run/0123456789abcdef', '{body}', 1, {now})", db=db)
            code, out = call(self.obs, "POST", "/api/v1/plans/prod-files/backup", "admin-bot")
            self.assertEqual(code, 409, out)
            self.assertIn("0123456789abcdef", out.decode())
            _server.psql(f"UPDATE documents SET updated_ns = {now - 60 * 10**9} WHERE name = 'run/0123456789abcdef'", db=db)
            lost = json.loads(call(second, "GET", "/api/v1/runs/0123456789abcdef", "admin-bot")[1])
            self.assertEqual(lost["state"], "lost", lost)
            code, out = call(self.obs, "POST", "/api/v1/plans/prod-files/backup", "admin-bot")
            self.assertEqual(code, 202, out)

            # Asked at once through both replicas, one starts the plan and the
            # other answers 409, round after round.
            def ended(run_id):
                state = json.loads(call(second, "GET", f"/api/v1/runs/{run_id}", "admin-bot")[1]).get("state")
                return state not in (None, "running")
            for attempt in range(4):
                eventually(lambda: ended(json.loads(out)["id"]), "the last run ended")
                answers = [None, None]
                ready = threading.Barrier(2)

                def ask(k, server):
                    ready.wait()
                    answers[k] = call(server, "POST", "/api/v1/plans/prod-files/backup", "admin-bot")
                threads = [threading.Thread(target=ask, args=(k, s)) for k, s in enumerate((self.obs, second))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(sorted(a[0] for a in answers), [202, 409], answers)
                out = next(a[1] for a in answers if a[0] == 202)
        finally:
            second.stop()


def load_tests(loader, tests, pattern):
    # The web UI's tests look at the pages, not the store: they run once, in test_access.
    return unittest.TestSuite(AccessOnPostgresTest(name) for name in
                              ("test_rbac_matrix", "test_operations_matrix", "test_attacks_get_401_and_are_audited",
                               "test_key_rotation_and_tampered_audit_log",
                               "test_replicas_keep_an_audit_chain_each_and_verify_checks_every_one",
                               "test_replicas_share_role_assignments_plans_and_runs"))
