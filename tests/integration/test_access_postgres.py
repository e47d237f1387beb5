"""The identity tests' RBAC and operations matrices and attacks
(test_access.py), unchanged, on a PostgreSQL store: every server they start
gets `--store` with a database of its own on a real PostgreSQL 15."""
import itertools
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
    pass


def load_tests(loader, tests, pattern):
    # The web UI's tests look at the pages, not the store: they run once, in test_access.
    return unittest.TestSuite(AccessOnPostgresTest(name) for name in
                              ("test_rbac_matrix", "test_operations_matrix", "test_attacks_get_401_and_are_audited",
                               "test_key_rotation_and_tampered_audit_log"))
