"""`serve --store postgresql://...`: several replicas on one real PostgreSQL
15 (started by the test on loopback), answering as one SQLite server would."""
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest

import subprocess

from helpers import BIN, CliTestCase
from observatory import Observatory, json_span, random_hex, span_request
from postgres import PostgresServer

NS = 1_000_000_000
HOUR = 3600 * NS

# Series that come from the store (replicas share them); insight's and the
# server's own counters are each replica's.
STORE_METRICS = re.compile(r"^(backspan_backup_\w+|backspan_source_(last_success|overdue|expected_by|state)\w*|"
                           r"backspan_jobs_total|backspan_jobs_running|backspan_store_jobs)\b")


def jobs_request(first, count, now_ns):
    """`count` backup jobs (each a root and two phases) from job number `first` on."""
    spans_by_host = {}
    for n in range(first, first + count):
        host = f"host-{n % 5}"
        start = now_ns - (n % 60) * HOUR - n * NS
        end = start + (30 + n % 90) * NS
        trace, root = random_hex(16), random_hex(8)
        failed = n % 7 == 0
        attrs = {"backspan.job.kind": "backup", "azure.resource_group.name": f"rg-{n % 3}",
                 "backspan.paths": [f"/srv/{n % 4}"], "env": "prod" if n % 2 else "test",
                 "process.exit.code": 1 if failed else 0, "backspan.bytes.added": 1000 + n}
        spans = spans_by_host.setdefault(host, [])
        spans.append(json_span(trace, root, "backup", start, end, attrs=attrs, status=2 if failed else 0,
                               message="repository unreachable" if failed else ""))
        spans.append(json_span(trace, random_hex(8), "scan", start, start + 5 * NS, parent=root))
        spans.append(json_span(trace, random_hex(8), "upload", start + 5 * NS, end, parent=root))
    request = {"resourceSpans": []}
    for host, spans in spans_by_host.items():
        request["resourceSpans"] += span_request(spans, {"service.name": "backspan", "host.name": host})["resourceSpans"]
    return request


def anomaly_request(now_ns):
    """A source with a daily 60-second job for two weeks, then one ten times slower."""
    spans = []
    for day in range(15, -1, -1):
        start = now_ns - day * 24 * HOUR - 2 * HOUR
        spans.append(json_span(random_hex(16), random_hex(8), "backup", start, start + (600 if day == 0 else 60) * NS,
                               attrs={"backspan.job.kind": "backup", "azure.resource_group.name": "rg-odd",
                                      "backspan.paths": ["/odd"]}))
    return span_request(spans, {"service.name": "backspan", "host.name": "host-odd"})


def store_metrics(server):
    _, _, body = server.request("GET", "/metrics")
    return sorted(line for line in body.decode().splitlines() if STORE_METRICS.match(line))


class PostgresStoreTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def setUp(self):
        super().setUp()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop(signal.SIGKILL if s.proc.poll() is None and getattr(s, "kill", False) else signal.SIGTERM)
        super().tearDown()

    def serve(self, *flags, uri=None, data=None):
        data = data or tempfile.mkdtemp(dir=self.tmp)
        store = ("--store", uri) if uri else ()
        server = Observatory(data, self.env, *store, *flags)
        self.servers.append(server)
        return server

    def post(self, server, request):
        status, _, body = server.post_json_spans(request)
        self.assertEqual(status, 200, body[:300])

    def test_two_replicas_answer_as_one_sqlite_server_would(self):
        uri = self.pg.new_database("replicas")
        a, b = self.serve(uri=uri), self.serve(uri=uri)
        single = self.serve()
        now = time.time_ns()
        requests = [jobs_request(i * 20, 20, now) for i in range(15)] + [anomaly_request(now)]
        # Half through each replica at once; all of it into SQLite.
        threads = [threading.Thread(target=lambda rs, s: [self.post(s, r) for r in rs], args=(requests[k::2], s))
                   for k, s in ((0, a), (1, b))]
        for t in threads:
            t.start()
        for r in requests:
            self.post(single, r)
        for t in threads:
            t.join()
        self.post(b, requests[3])  # a duplicate delivery, through the other replica

        def jobs(server):
            return sorted((j["trace_id"], j["status"], j["resource_group"], j["bytes_added"], j["paths"])
                          for j in server.get_json("/api/v1/jobs?limit=1000&since=30d")["jobs"])
        def sources(server):
            # Ids are each store's own; ages move with the clock.
            out = sorted(({k: v for k, v in s.items() if k not in ("source_id", "age_seconds")}
                          for s in server.get_json("/api/v1/freshness")["sources"]), key=repr)
            self.assertEqual(len(out), 21)
            return out
        expected = jobs(single)
        self.assertEqual(len(expected), 316)
        for replica in (a, b):
            self.assertEqual(jobs(replica), expected)
            for path in ("/api/v1/trends?metric=job_count&group_by=azure.resource_group.name&since=3d",
                         "/api/v1/trends?metric=duration&group_by=env&since=3d&bucket=day",
                         "/api/v1/trends?metric=failures&since=3d",
                         "/api/v1/jobs?tag=env%3Dprod&status=failed&limit=1000&since=30d",
                         "/api/v1/tags"):
                self.assertEqual(replica.get_json(path), single.get_json(path), path)
            self.assertEqual(sources(replica), sources(single))
            self.assertEqual(store_metrics(replica), store_metrics(single))
        self.assertIn('backspan_jobs_total{kind="backup",status="ok"} 273', store_metrics(a))

        # One replica (the leader) judges every job, whichever replica stored
        # it; the other adopts what it found, and answers alike.
        as_of = now // NS

        def insight(server, jobs):
            self.assertTrue(server.wait_until(
                lambda: (lambda st: st["loaded"] and st["pending"] == 0 and st["jobs"] == jobs)(
                    server.get_json("/api/v1/anomalies")["insight"]), 30))
            anomalies = server.get_json("/api/v1/anomalies?since=30d")
            forecasts = server.get_json(f"/api/v1/forecasts?as_of={as_of}")
            for x in anomalies["anomalies"] + forecasts["forecasts"]:
                x.pop("source")  # each store's own ids
            anomalies.pop("insight")  # each replica's own work
            forecasts.pop("insight")
            return anomalies, forecasts
        self.assertTrue(single.wait_until(
            lambda: (lambda st: st["loaded"] and st["pending"] == 0)(single.get_json("/api/v1/anomalies")["insight"])))
        jobs_seen = single.get_json("/api/v1/anomalies")["insight"]["jobs"]
        self.assertGreater(jobs_seen, 250)
        want = insight(single, jobs_seen)
        self.assertIn("host-odd", {x["host"] for x in want[0]["anomalies"]})
        for replica in (a, b):
            insight(replica, jobs_seen)
            self.assertTrue(replica.wait_until(lambda: insight(replica, jobs_seen) == want), replica)
        states = {r: r.get_json("/api/v1/anomalies")["insight"] for r in (a, b)}
        self.assertEqual(sorted(st["judging"] for st in states.values()), [False, True])
        for st in states.values():
            self.assertEqual(st["judged"] > 0, st["judging"], st)
            self.assertEqual(st["anomalies"], len(want[0]["anomalies"]), st)

    def all_job_ids(self, server):
        ids, cursor = set(), ""
        while True:
            page = server.get_json("/api/v1/jobs?limit=1000&since=30d" + (f"&before={cursor}" if cursor else ""))
            ids |= {j["trace_id"] for j in page["jobs"]}
            if not page.get("next"):
                return ids
            cursor = page["next"]

    def load(self, server, acked, stop, statuses, offset):
        """Posts requests of 10 jobs to `server` until `stop`; the trace ids of
        each acknowledged one go to `acked`, every answer's status to `statuses`."""
        n = offset
        while not stop.is_set():
            request = jobs_request(n, 10, time.time_ns())
            n += 10
            try:
                status, headers, _ = server.post_json_spans(request)
            except OSError:
                statuses.append("refused")
                time.sleep(0.05)
                continue
            statuses.append(status)
            if status == 503:
                self.assertIn("Retry-After", headers)
            if status == 200:
                acked.update(sp["traceId"] for rs in request["resourceSpans"] for ss in rs["scopeSpans"]
                             for sp in ss["spans"] if "parentSpanId" not in sp)

    def start_load(self, *servers):
        """Loads each server from a thread of its own: (acked, stop, statuses, threads)."""
        acked, stop, statuses = set(), threading.Event(), []
        senders = [threading.Thread(target=self.load, args=(s, acked, stop, statuses, k * 1_000_000))
                   for k, s in enumerate(servers)]
        for t in senders:
            t.start()
        return acked, stop, statuses, senders

    def stop_load(self, stop, senders):
        stop.set()
        for t in senders:
            t.join()

    def test_a_replica_killed_under_load_loses_nothing_acknowledged(self):
        uri = self.pg.new_database("killed")
        a, b = self.serve(uri=uri), self.serve(uri=uri)
        acked, stop, statuses, senders = self.start_load(a, b)
        time.sleep(1.5)
        a.proc.kill()  # kill -9, mid-commit as likely as not
        a.proc.wait()
        time.sleep(1.5)
        self.stop_load(stop, senders)
        self.assertGreater(len(acked), 200)
        self.assertIn("refused", statuses)
        stored = self.all_job_ids(b)
        self.assertEqual(acked - stored, set())
        # The survivor still takes writes and answers.
        self.post(b, jobs_request(2_000_000, 3, time.time_ns()))
        self.assertEqual(len(self.all_job_ids(b)), len(stored) + 3)

    def test_store_copy_moves_a_sqlite_store_resumably_and_verifies_it(self):
        data = tempfile.mkdtemp(dir=self.tmp)
        single = self.serve(data=data)
        now = time.time_ns()
        for i in range(15):
            self.post(single, jobs_request(i * 20, 20, now))
        single.stop()
        self.servers.remove(single)
        uri = self.pg.new_database("copied")
        copy = [BIN, "--json", "store", "copy", "--from", data, "--to", uri]
        # Killed part way (or not, if it was quick), then run again: the
        # same result, nothing twice.
        p = subprocess.Popen(copy + ["--batch", "7"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        p.kill()
        p.wait()
        for _ in range(2):
            done = self.json_out("store", "copy", "--from", data, "--to", uri)[-1]
            self.assertTrue(done["verified"], done)
            self.assertEqual(done["jobs"], 300)
            self.assertEqual(done["spans"], 900)
        replica, single = self.serve(uri=uri), self.serve(data=data)
        for path in ("/api/v1/jobs?limit=1000&since=30d", "/api/v1/trends?metric=duration&group_by=env&since=3d",
                     "/api/v1/tags"):
            self.assertEqual(replica.get_json(path), single.get_json(path), path)
        self.assertEqual(store_metrics(replica), store_metrics(single))
        # Not into a database that holds other jobs.
        other = tempfile.mkdtemp(dir=self.tmp)
        self.serve(data=other).post_json_spans(jobs_request(0, 1, now))
        r = self.run_cli("--json", "store", "copy", "--from", other, "--to", uri, rc=1)
        self.assertIn(b"already holds jobs", r.stdout + r.stderr)
        self.run_cli("store", "copy", "--from", data, "--to", "/tmp/not-a-uri", rc=2)

    def test_one_replica_leads_and_another_takes_over_when_it_dies(self):
        uri = self.pg.new_database("leaders")
        replicas = [self.serve(uri=uri) for _ in range(3)]

        def leaders():
            out = []
            for r in replicas:
                if r.proc.poll() is None:
                    _, _, body = r.request("GET", "/metrics")
                    if "\nbackspan_store_leader 1" in body.decode():
                        out.append(r)
            return out
        self.assertTrue(replicas[0].wait_until(lambda: len(leaders()) == 1))
        time.sleep(3)  # an election later, still one
        first = leaders()
        self.assertEqual(len(first), 1)
        # Insight judges in the leader only; the others adopt its anomalies.
        self.post(replicas[1], anomaly_request(time.time_ns()))

        def insight(r):
            return r.get_json("/api/v1/anomalies?since=30d")
        self.assertTrue(first[0].wait_until(lambda: insight(first[0])["anomalies"]))
        found = insight(first[0])["anomalies"]
        for r in replicas:
            self.assertTrue(r.wait_until(lambda: insight(r)["anomalies"] == found), r)
            self.assertEqual(insight(r)["insight"]["judging"], r is first[0])
        first[0].proc.kill()
        first[0].proc.wait()
        self.assertTrue(replicas[0].wait_until(lambda: len(leaders()) == 1 and leaders()[0] is not first[0]))
        # The new leader judges from now on, and finds what the last one did.
        second = leaders()[0]
        self.assertTrue(second.wait_until(lambda: insight(second)["insight"]["judging"]))
        self.assertTrue(second.wait_until(lambda: insight(second)["insight"]["judged"] >= 16))
        self.assertEqual(insight(second)["anomalies"], found)
        self.assertIn("backspan_store_leader 1", self.serve().request("GET", "/metrics")[2].decode())  # SQLite: alone

    def test_replicas_notify_as_one_and_a_new_leader_carries_incidents_on(self):
        from test_agent import WebhookReceiver, webhook_notify_file
        hook = WebhookReceiver()
        self.addCleanup(hook.close)
        notify = webhook_notify_file(os.path.join(self.tmp, "notify.toml"), hook.url, ["failure", "recovered", "anomaly"],
                                     head='reminder = "0s"\n')
        uri = self.pg.new_database("notify")
        replicas = [self.serve("--notify", notify, uri=uri) for _ in range(2)]
        now = time.time_ns()

        def job(host, ok, minutes_ago):
            start = now - minutes_ago * 60 * NS
            attrs = {"backspan.job.kind": "backup", "backspan.paths": ["/srv"], "process.exit.code": 0 if ok else 1}
            span = json_span(random_hex(16), random_hex(8), "backup", start, start + 30 * NS, attrs=attrs,
                             status=0 if ok else 2, message="" if ok else "repository unreachable")
            return span_request([span], {"service.name": "backspan", "host.name": host})

        def sent(kind=None):
            return [e for e in hook.events() if kind is None or e["event"] == kind]

        # A failure heard by one replica, another by the other: one incident, one notification.
        self.post(replicas[0], job("web-1", False, 50))
        self.assertTrue(replicas[0].wait_until(lambda: sent("failure"), 20))
        self.post(replicas[1], job("web-1", False, 40))
        # The anomaly every replica finds is told once.
        self.post(replicas[1], anomaly_request(now))
        self.assertTrue(replicas[0].wait_until(lambda: sent("anomaly"), 30))
        time.sleep(2)
        self.assertEqual([e["event"] for e in sent()], ["failure", "anomaly"], sent())
        incident = sent("failure")[0]["incident_id"]

        # The leader dies with the incident open; the other leads, and the
        # success it hears of closes that very incident.
        def leader():
            for r in replicas:
                if r.proc.poll() is None and "\nbackspan_store_leader 1" in r.request("GET", "/metrics")[2].decode():
                    return r
            return None
        self.assertTrue(replicas[0].wait_until(lambda: leader() is not None))
        first = leader()
        first.proc.kill()
        first.proc.wait()
        survivor = replicas[1] if first is replicas[0] else replicas[0]
        self.assertTrue(survivor.wait_until(lambda: leader() is survivor, 20))
        self.post(survivor, job("web-1", True, 30))
        self.assertTrue(survivor.wait_until(lambda: sent("recovered"), 20))
        time.sleep(1)
        self.assertEqual([e["event"] for e in sent()], ["failure", "anomaly", "recovered"], sent())
        self.assertEqual(sent("recovered")[0]["incident_id"], incident)

    def test_a_replica_that_stopped_listening_catches_up_on_the_jobs_it_missed(self):
        uri = self.pg.new_database("deaf")
        db = "deaf"
        replicas = [self.serve(uri=uri) for _ in range(2)]
        # Both replicas' LISTEN connections are cut again and again while
        # jobs arrive through both: notifications sent meanwhile are lost.
        stop = threading.Event()

        def cut():
            while not stop.is_set():
                self.pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'", db=db)
                time.sleep(0.02)
        cutter = threading.Thread(target=cut)
        cutter.start()
        try:
            now = time.time_ns()
            for i in range(40):
                self.post(replicas[i % 2], jobs_request(i * 5, 5, now))
                time.sleep(0.01)
        finally:
            stop.set()
            cutter.join()

        def insight_jobs(server):
            return json.loads(server.request("GET", "/api/v1/anomalies")[2])["insight"]["jobs"]
        # Each judges all 200 jobs: the ones it stored, those it was told of,
        # and those it read back when it listened again.
        for r in replicas:
            self.assertTrue(r.wait_until(lambda: insight_jobs(r) == 200, 20), insight_jobs(r))

    def test_a_postgresql_restart_is_503s_then_recovery_without_loss(self):
        uri = self.pg.new_database("restarted")
        a, b = self.serve(uri=uri), self.serve(uri=uri)
        acked, stop, statuses, senders = self.start_load(a, b)
        try:
            time.sleep(1)
            self.pg.stop("immediate")  # as a crash would
            time.sleep(2)
            code, headers, body = a.request("GET", "/api/v1/jobs")
            self.assertEqual(code, 503, body)
            self.assertIn("Retry-After", headers)
            self.assertEqual(a.request("GET", "/readyz")[0], 503)
        finally:
            self.pg.start()
        time.sleep(2)
        self.stop_load(stop, senders)
        self.assertIn(503, statuses)
        self.assertEqual(statuses[-1], 200)  # recovered by itself
        for replica in (a, b):
            self.assertTrue(replica.wait_until(lambda: replica.request("GET", "/readyz")[0] == 200))
            self.assertEqual(acked - self.all_job_ids(replica), set())


if __name__ == "__main__":
    unittest.main()
