"""The identity tests' RBAC and operations matrices and attacks
(test_access.py), unchanged, on a PostgreSQL store: every server they start
gets `--store` with a database of its own on a real PostgreSQL 15."""
import itertools
import os
import unittest

import observatory
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


def load_tests(loader, tests, pattern):
    # The web UI's tests look at the pages, not the store: they run once, in test_access.
    return unittest.TestSuite(AccessOnPostgresTest(name) for name in
                              ("test_rbac_matrix", "test_operations_matrix", "test_attacks_get_401_and_are_audited",
                               "test_key_rotation_and_tampered_audit_log",
                               "test_replicas_keep_an_audit_chain_each_and_verify_checks_every_one"))
