"""`backspan agent` end to end with real processes: the configuration check,
runs with hooks, the observatory receiving the agent's traces and
heartbeats through the spool (also after an outage), freshness by declared
schedules, notifications to a loopback webhook and SMTP server, and SIGTERM
in the middle of a run."""
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from helpers import BIN, CliTestCase
from observatory import Observatory


class WebhookReceiver:
    """A loopback HTTP server keeping every JSON body POSTed to it."""

    def __init__(self):
        self.bodies, self.headers = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.headers.append(dict(self.headers))
                receiver.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        return [json.loads(b) for b in self.bodies]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def webhook_notify_file(path, url, events, head=""):
    """A --notify file sending `events` to one webhook channel "ops" at `url`;
    `head`: settings before the tables."""
    with open(path, "w") as f:
        f.write(f'{head}\n[[channel]]\nname = "ops"\ntype = "webhook"\nurl = "{url}"\n\n'
                f'[[rule]]\non = {json.dumps(events)}\nchannels = ["ops"]\n')
    return path


class AgentTestCase(CliTestCase):
    def setUp(self):
        super().setUp()
        self.password_file = os.path.join(self.tmp, "pw")
        with open(self.password_file, "w") as f:
            f.write("correct horse\n")
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        for i in range(5):
            with open(os.path.join(self.data, f"f{i}.txt"), "w") as f:
                f.write("x" * 1000 * (i + 1))
        self.run_ok("init")
        self.agent_state = os.path.join(self.tmp, "agent")
        self.config = os.path.join(self.tmp, "agent.toml")

    def write_config(self, policies, agent_extra="", observatory=None):
        text = f'[agent]\nhost = "host-a"\nstate_dir = "{self.agent_state}"\n{agent_extra}\n'
        if observatory:
            text += f'[observatory]\nurl = "{observatory.url}"\ntoken_file = "{self.token_file}"\nheartbeat = "5s"\n\n'
        for p in policies:
            text += p + "\n"
        with open(self.config, "w") as f:
            f.write(text)

    def policy(self, name="data", schedule="* * * * *", extra=""):
        return (f'[[policy]]\nname = "{name}"\nrepository = "{self.repo}"\npassword_file = "{self.password_file}"\n'
                f'paths = ["{self.data}"]\ntags = {{ "azure.resource_group.name" = "rg-a", env = "prod" }}\n'
                f'schedule = "{schedule}"\n{extra}')

    def agent(self, *args, timeout=120):
        return subprocess.run([BIN, "agent", "--config", self.config, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def run_ok(self, *args):
        r = subprocess.run([BIN, *args], env=self.env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


class AgentConfigTest(AgentTestCase):
    def test_check_prints_the_next_runs_and_names_broken_policies(self):
        self.write_config([self.policy(schedule="30 2 * * *", extra='timezone = "Europe/Berlin"\n'),
                           self.policy("bad-cron", "0 25 * * *"),
                           self.policy("bad-zone", "@daily", 'timezone = "Mars/Olympus"\n'),
                           self.policy("overlap", "@hourly", 'window = "2h"\n'),
                           self.policy("no-password", "@daily").replace(self.password_file, "/nonexistent/pw")])
        r = self.agent("--check", "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        out = json.loads(r.stdout)
        by_name = {p["name"]: p for p in out["policies"]}
        self.assertTrue(by_name["data"]["ok"])
        self.assertEqual(len(by_name["data"]["next_runs"]), 5)
        self.assertTrue(all(run["wall_clock"].endswith("02:30") or run["wall_clock"].endswith("03:00")
                            for run in by_name["data"]["next_runs"]))
        self.assertEqual(by_name["bad-cron"]["error"], "policy 'bad-cron': schedule: hour field '25': 25 is out of range 0-23")
        self.assertEqual(by_name["bad-zone"]["error"],
                         "policy 'bad-zone': schedule: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin or UTC)")
        self.assertIn("windows must not overlap", by_name["overlap"]["error"])
        self.assertEqual(by_name["no-password"]["error"], "policy 'no-password': password_file: /nonexistent/pw does not exist")
        # Plain text names them too, one line each.
        text = self.agent("--check").stdout
        self.assertIn("bad-cron: BROKEN: policy 'bad-cron': schedule: hour field '25'", text)

    def test_a_file_that_is_not_toml_names_the_line(self):
        with open(self.config, "w") as f:
            f.write('[agent]\nstate_dir = "x"\n[[policy]\n')
        r = self.agent("--check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("agent.toml:3:", r.stderr)


class AgentRunTest(AgentTestCase):
    def test_once_runs_the_backup_with_its_hooks_in_one_trace(self):
        log = os.path.join(self.tmp, "hooks.log")
        self.write_config([self.policy(extra=f'[policy.hooks]\nbefore = ["echo before $TRACEPARENT $BACKSPAN_POLICY >> {log}"]\n'
                                             f'after = ["echo after $BACKSPAN_RUN_STATUS >> {log}"]\n'),
                           self.policy("broken", "0 25 * * *")])
        r = self.agent("--once")
        # The broken policy makes the exit status 1; the good one still ran.
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("policy 'data': backup ok", r.stderr)
        self.assertIn("policy 'broken': schedule: hour field '25'", r.stderr)
        with open(log) as f:
            lines = f.read().split("\n")
        self.assertTrue(lines[0].startswith("before 00-") and lines[0].endswith(" data"), lines)
        self.assertEqual(lines[1], "after ok")
        snaps = json.loads(self.run_ok("--json", "snapshots"))
        self.assertEqual(len(snaps), 1)
        self.assertIn("env=prod", snaps[0]["tags"])
        # The agent run and the backup are one trace in the agent's history.
        jobs = json.loads(self.run_ok("--json", "jobs", "--state-dir", os.path.join(self.agent_state, "history")))
        kinds = {j["kind"]: j for j in jobs}
        self.assertIn("agent run", kinds)
        self.assertIn("backup", kinds)
        self.assertEqual(kinds["agent run"]["trace_id"], kinds["backup"]["trace_id"])
        # Run again in the same minute: nothing is due.
        r = self.agent("--once")
        self.assertNotIn("backup ok", r.stderr)

    def test_a_failing_before_hook_skips_the_backup_and_runs_on_error(self):
        log = os.path.join(self.tmp, "hooks.log")
        self.write_config([self.policy(extra=f'[policy.hooks]\nbefore = ["echo dump failed >&2; exit 4"]\n'
                                             f'on_error = ["echo on_error $BACKSPAN_RUN_STATUS >> {log}"]\n')])
        r = self.agent("--once")
        self.assertEqual(r.returncode, 1)
        self.assertIn("before hook 1 exited with 4: dump failed; the backup did not run", r.stderr)
        with open(log) as f:
            self.assertEqual(f.read().strip(), "on_error failed")
        self.assertEqual(json.loads(self.run_ok("--json", "snapshots")), [])

    def test_exit_75_from_a_before_hook_skips_without_failing(self):
        self.write_config([self.policy(extra='[policy.hooks]\nbefore = ["exit 75"]\n')])
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("backup skipped: before hook 1 asked to skip the run (exit 75)", r.stderr)

    def test_sigterm_stops_the_running_backup_cleanly_and_records_it(self):
        # A large sparse file keeps the backup busy long enough to interrupt it.
        with open(os.path.join(self.data, "big.img"), "wb") as f:
            f.truncate(6 << 30)
        self.write_config([self.policy()])
        proc = subprocess.Popen([BIN, "agent", "--config", self.config], env=self.env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "policy 'data': backup for" in line:
                break
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        proc.stderr.close()
        self.assertEqual(proc.wait(timeout=60), 0, "".join(lines) + rest)
        self.assertIn("policy 'data': backup interrupted", rest)
        # The repository is sound, and the run is recorded as interrupted.
        self.run_ok("check")
        with open(os.path.join(self.agent_state, "agent-state.json")) as f:
            state = json.load(f)["policies"]["data"]
        self.assertEqual(state["last_outcome"], "interrupted")
        self.assertNotEqual(state["retry_at"], 0)  # resumed at the next start, if its window lasts


class AgentNotifyTest(AgentTestCase):
    """Without an observatory, the agent notifies by itself: every channel
    type against a loopback receiver (HTTP, SMTP) or a command."""

    def test_every_channel_type_gets_the_failure_and_the_recovery(self):
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            sys.path.append("/usr/lib/python3/dist-packages")
            from aiosmtpd.controller import Controller
        mails = []

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
                return "250 OK"

        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
        smtp.start()
        self.addCleanup(smtp.stop)
        hook = WebhookReceiver()
        self.addCleanup(hook.close)
        out = os.path.join(self.tmp, "command.out")
        notify = os.path.join(self.tmp, "notify.toml")
        with open(notify, "w") as f:
            f.write(f'ui_url = "http://ui.example"\n'
                    f'[[channel]]\nname = "hook"\ntype = "webhook"\nurl = "{hook.url}/webhook"\n'
                    f'[[channel]]\nname = "slack"\ntype = "slack"\nurl = "{hook.url}/slack"\n'
                    f'[[channel]]\nname = "teams"\ntype = "teams"\nurl = "{hook.url}/teams"\n'
                    f'[[channel]]\nname = "ntfy"\ntype = "ntfy"\nurl = "{hook.url}/ntfy"\n'
                    f'[[channel]]\nname = "mail"\ntype = "email"\nurl = "smtp://127.0.0.1:{port}"\nstarttls = false\n'
                    f'from = "backspan@example.com"\nto = ["ops@example.com"]\n'
                    f'[[channel]]\nname = "cmd"\ntype = "command"\ncommand = "echo $BACKSPAN_EVENT >> {out}"\n'
                    f'[[rule]]\non = ["failure", "missed", "recovered"]\nchannels = ["hook", "slack", "teams", "ntfy", "mail", "cmd"]\n')
        self.write_config([self.policy()], agent_extra=f'notify_config = "{notify}"')
        with open(self.password_file, "w") as f:
            f.write("wrong\n")
        r = self.agent("--once")
        self.assertEqual(r.returncode, 1, r.stderr)
        with open(self.password_file, "w") as f:
            f.write("correct horse\n")
        AgentObservatoryTest.rewind(self)
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        bodies = {}
        for headers, body in zip(hook.headers, hook.bodies):
            bodies.setdefault(headers.get("Title") and "ntfy" or "", []).append(body)
        # Two notifications (the failure, then the recovery) per HTTP channel: 4 channels.
        self.assertEqual(len(hook.bodies), 8, [b[:80] for b in hook.bodies])
        generic = [json.loads(b) for b in hook.bodies if b.startswith(b'{"detail"')]
        self.assertEqual([g["event"] for g in generic], ["failure", "recovered"])
        slack = [json.loads(b) for b in hook.bodies if b.startswith(b'{"text"')]
        self.assertTrue(slack[0]["text"].startswith("*FAILED backup on host-a"), slack)
        teams = [json.loads(b) for b in hook.bodies if b'"attachments"' in b]
        self.assertEqual(teams[0]["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive")
        ntfy = [h for h in hook.headers if "Title" in h]
        self.assertEqual([h["Tags"] for h in ntfy], ["warning", "white_check_mark"])
        self.assertEqual(len(mails), 2)
        self.assertEqual(mails[0][1], ["ops@example.com"])
        self.assertIn("Subject: FAILED backup on host-a", mails[0][2])
        self.assertNotIn("horse", mails[0][2] + mails[1][2])
        with open(out) as f:
            self.assertEqual(f.read().split(), ["failure", "recovered"])


class AgentObservatoryTest(AgentTestCase):
    def setUp(self):
        super().setUp()
        self.token_file = os.path.join(self.tmp, "ingest.token")
        with open(self.token_file, "w") as f:
            f.write("agent-ingest-token-0123456789\n")
        self.hook = WebhookReceiver()
        self.addCleanup(self.hook.close)
        self.secret_file = os.path.join(self.tmp, "webhook.secret")
        with open(self.secret_file, "w") as f:
            f.write("webhook-secret\n")
        self.notify_file = os.path.join(self.tmp, "notify.toml")
        with open(self.notify_file, "w") as f:
            f.write(f'ui_url = "http://observatory.example"\ncheck_interval = "1s"\n\n'
                    f'[[channel]]\nname = "ops"\ntype = "webhook"\nurl = "{self.hook.url}"\nsecret_file = "{self.secret_file}"\n\n'
                    f'[[rule]]\non = ["failure", "missed", "overdue", "recovered"]\nchannels = ["ops"]\n'
                    f'resource_groups = ["rg-a"]\n')
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--ingest-token-file", self.token_file,
                               "--notify", self.notify_file)
        self.addCleanup(self.obs.stop)
        self.auth = {"Authorization": "Bearer agent-ingest-token-0123456789"}

    def get(self, path):
        code, _, body = self.obs.request("GET", path, headers=self.auth)
        self.assertEqual(code, 200, body)
        return json.loads(body)

    def test_traces_heartbeats_freshness_and_notifications(self):
        self.write_config([self.policy()], observatory=self.obs)
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([n for n in os.listdir(os.path.join(self.agent_state, "spool")) if n != "dropped"], [])
        jobs = self.get("/api/v1/jobs")["jobs"]
        backup = next(j for j in jobs if j["kind"] == "backup")
        run = next(j for j in jobs if j["kind"] == "agent run")
        self.assertEqual(backup["trace_id"], run["trace_id"])
        self.assertEqual(backup["tags"]["backspan.policy.name"], "data")
        self.assertEqual(backup["host"], "host-a")
        # The window's end reaches the backup job itself, for insight's forecasts.
        self.assertIn("deadline", backup)
        self.assertNotIn("backspan.job.deadline", backup["tags"])
        agents = self.get("/api/v1/agents")["agents"]
        self.assertEqual(agents[0]["name"], "host-a")
        self.assertTrue(agents[0]["up"])
        fresh = self.get("/api/v1/freshness")["sources"]
        self.assertEqual(len(fresh), 1, fresh)
        self.assertEqual(fresh[0]["state"], "ok")
        self.assertEqual(fresh[0]["schedule"]["cron"], "* * * * *")
        metrics = self.obs.request("GET", "/metrics", headers=self.auth)[2].decode()
        self.assertIn('backspan_source_overdue{source="host-a:' + self.data, metrics)
        self.assertIn('env="prod"} 0', metrics)
        self.assertIn('backspan_agent_up{agent="host-a",host="host-a"} 1', metrics)

        # The next run fails (a wrong password): the backup fails and the tick
        # is missed; one notification opens the incident, signed.
        with open(self.password_file, "w") as f:
            f.write("wrong\n")
        self.rewind()
        r = self.agent("--once")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(self.obs.wait_until(lambda: any(e["event"] == "failure" for e in self.hook.events()), 20),
                        self.hook.events())
        failure = next(e for e in self.hook.events() if e["event"] == "failure")
        self.assertIn("password", failure["detail"])
        self.assertEqual(failure["source"]["host"], "host-a")
        self.assertTrue(failure["url"].startswith("http://observatory.example/#/trace/"))
        self.assertNotIn("horse", json.dumps(failure))
        i = [e["event"] for e in self.hook.events()].index("failure")
        signature = self.hook.headers[i]["X-Backspan-Signature"]
        t = signature.split(",")[0][2:]
        want = hmac.new(b"webhook-secret", (t + ".").encode() + self.hook.bodies[i], hashlib.sha256).hexdigest()
        self.assertEqual(signature, f"t={t},v1={want}")
        self.assertEqual(self.get("/api/v1/freshness")["sources"][0]["state"], "failing")

        # The next run succeeds: recovered, once.
        with open(self.password_file, "w") as f:
            f.write("correct horse\n")
        self.rewind()
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.obs.wait_until(lambda: any(e["event"] == "recovered" for e in self.hook.events()), 20))
        recovered = next(e for e in self.hook.events() if e["event"] == "recovered")
        self.assertEqual(recovered["incident_id"], failure["incident_id"], self.hook.events())
        # The missed tick belonged to the open incident: no second notification.
        self.assertEqual([e["event"] for e in self.hook.events()], ["failure", "recovered"])
        # Each delivery is a span in the job's trace.
        trace = self.get("/api/v1/traces/" + failure["trace_id"])
        self.assertIn("notify ops", [s["name"] for s in trace["spans"]])

    def test_hashed_paths_still_meet_on_one_declared_source(self):
        self.write_config([self.policy()], agent_extra='trace_paths = "hash"', observatory=self.obs)
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        fresh = self.get("/api/v1/freshness")["sources"]
        self.assertEqual(len(fresh), 1, fresh)
        self.assertTrue(fresh[0]["paths"].startswith("hmac:"), fresh[0])
        self.assertEqual(fresh[0]["schedule"]["policy"], "data")
        self.assertNotIn(self.data, json.dumps(self.get("/api/v1/agents")))
        jobs = self.get("/api/v1/jobs")["jobs"]
        self.assertNotIn(self.data, json.dumps(jobs))

    def test_nothing_is_lost_while_the_observatory_is_away(self):
        self.write_config([self.policy()], observatory=self.obs)
        self.obs.stop()
        r = self.agent("--once", "--deliver-timeout", "2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("keeping the spool", r.stderr)
        spooled = [n for n in os.listdir(os.path.join(self.agent_state, "spool")) if n != "dropped"]
        self.assertGreaterEqual(len(spooled), 3)  # the agent run, the backup's spans, a heartbeat
        self.obs.start()
        self.write_config([self.policy()], observatory=self.obs)  # the port changed
        self.rewind()
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([n for n in os.listdir(os.path.join(self.agent_state, "spool")) if n != "dropped"], [])
        backups = [j for j in self.get("/api/v1/jobs")["jobs"] if j["kind"] == "backup"]
        self.assertEqual(len(backups), 2)

    def rewind(self):
        """As if the agent last dealt with the tick before this minute's: the
        current minute's tick is due again, without waiting a minute."""
        path = os.path.join(self.agent_state, "agent-state.json")
        with open(path) as f:
            state = json.load(f)
        now = int(time.time())
        if now % 60 > 50:  # too close to the next tick to run in this one
            time.sleep(61 - now % 60)
            now = int(time.time())
        for p in state["policies"].values():
            p["last_tick"] = now - now % 60 - 1
        with open(path, "w") as f:
            json.dump(state, f)


if __name__ == "__main__":
    unittest.main()
