"""Two agents ("hosts" in different resource groups) reporting to one
observatory with OIDC client-credentials tokens from a real provider
(oidc-provider): a policy every minute on each; "Back up now" from the UI
in Chromium runs on the agent that owns the policy and a Reader's attempt is
refused and audited; one agent is killed, its source goes overdue and a
notification reaches a loopback webhook within interval + grace; restarted,
it catches up and the source recovers."""
import json
import os
import signal
import subprocess
import time
import unittest

from helpers import BIN
from identity import ACCESS, SECRET, Provider
from observatory import Observatory
from test_agent import AgentTestCase, WebhookReceiver

BROWSER_TEST = os.path.join(os.path.dirname(__file__), "../browser/agent.test.mjs")
ARTIFACTS = os.environ.get("BACKSPAN_ARTIFACTS",
                           os.path.join(os.path.dirname(os.path.abspath(os.environ.get("BACKSPAN_BIN", "build/x"))),
                                        "test-artifacts"))
GRACE = 10
WINDOW = 20


class AgentFleetTest(AgentTestCase):
    def setUp(self):
        super().setUp()
        self.provider = Provider(self.tmp)
        self.addCleanup(self.provider.stop)
        access = os.path.join(self.tmp, "access.json")
        with open(access, "w") as f:
            json.dump(ACCESS, f)
        self.hook = WebhookReceiver()
        self.addCleanup(self.hook.close)
        notify = os.path.join(self.tmp, "notify.toml")
        with open(notify, "w") as f:
            f.write(f'check_interval = "1s"\n[[channel]]\nname = "ops"\ntype = "webhook"\nurl = "{self.hook.url}"\n'
                    f'[[rule]]\non = ["failure", "missed", "overdue", "recovered"]\nchannels = ["ops"]\n')
        self.obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--oidc-issuer", self.provider.issuer,
                               "--access-config", access, "--notify", notify)
        self.addCleanup(self.obs.stop)
        self.agents = {}

    def start_agent(self, host, rg, client):
        state = os.path.join(self.tmp, "agent-" + host)
        secret = os.path.join(self.tmp, client + ".secret")
        with open(secret, "w") as f:
            f.write(SECRET + client)
        data = os.path.join(self.tmp, "data-" + host)
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "file"), "w") as f:
            f.write(host * 100)
        config = os.path.join(self.tmp, host + ".toml")
        with open(config, "w") as f:
            f.write(f'[agent]\nhost = "{host}"\nstate_dir = "{state}"\n\n'
                    f'[observatory]\nurl = "{self.obs.url}"\noidc_token_url = "{self.provider.issuer}/token"\n'
                    f'oidc_client_id = "{client}"\noidc_client_secret_file = "{secret}"\nheartbeat = "5s"\n\n'
                    f'[[policy]]\nname = "{rg.split("-")[1]}-data"\nrepository = "{self.repo}"\n'
                    f'password_file = "{self.password_file}"\npaths = ["{data}"]\n'
                    f'tags = {{ "azure.resource_group.name" = "{rg}" }}\nschedule = "* * * * *"\n'
                    f'window = "{WINDOW}s"\ngrace = "{GRACE}s"\nrestore_root = "{state}/restores"\n')
        proc = subprocess.Popen([BIN, "agent", "--config", config], env=self.env, stderr=subprocess.PIPE, text=True)
        self.agents[host] = proc
        self.addCleanup(self.stop_agent, host)
        return proc

    def stop_agent(self, host, sig=signal.SIGTERM):
        proc = self.agents[host]
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=60)
        if proc.stderr.closed:
            return ""
        out = proc.stderr.read()
        proc.stderr.close()
        return out

    def api(self, path, client="sre-bot"):
        code, _, body = self.obs.request("GET", path, headers={"Authorization": "Bearer " + self.provider.token(client)})
        self.assertEqual(code, 200, body)
        return json.loads(body)

    def source(self, host):
        for s in self.api("/api/v1/freshness")["sources"]:
            if s["host"] == host:
                return s
        return None

    def test_fleet(self):
        self.start_agent("web-prod", "rg-prod", "agent-prod")
        self.start_agent("web-dev", "rg-dev", "agent-dev")
        # Each agent runs its policy in the current minute (first sight, window open) or the next.
        ok = lambda h: (self.source(h) or {}).get("last_status") == "ok"
        self.assertTrue(self.obs.wait_until(lambda: ok("web-prod") and ok("web-dev"), 150),
                        self.api("/api/v1/freshness"))
        agents = {a["name"]: a for a in self.api("/api/v1/agents")["agents"]}
        self.assertTrue(agents["web-prod"]["up"] and agents["web-dev"]["up"])
        # A Reader of rg-prod sees only that agent.
        self.assertEqual([a["name"] for a in self.api("/api/v1/agents", "reader-prod")["agents"]], ["web-prod"])

        # Back up now, from the UI: refused for a Reader, queued for an Operator, run by the owning agent.
        if os.path.exists("/usr/bin/chromium"):
            os.makedirs(ARTIFACTS, exist_ok=True)
            p = subprocess.run(["node", BROWSER_TEST, self.obs.url, self.provider.token("reader-prod"),
                                self.provider.token("agent-prod"), ARTIFACTS], capture_output=True, timeout=180)
            self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        else:
            code, _, body = self.obs.request("POST", "/api/v1/agents/web-prod/policies/prod-data/backup", b"{}",
                                             {"Authorization": "Bearer " + self.provider.token("agent-prod")})
            self.assertEqual(code, 202, body)
        manual = lambda: [j for j in self.api("/api/v1/jobs?kind=agent%20run")["jobs"]
                          if j["tags"].get("backspan.agent.trigger", "schedule") != "schedule"]
        self.assertTrue(self.obs.wait_until(lambda: manual(), 60), "the requested backup did not run")
        self.assertEqual(manual()[0]["host"], "web-prod")
        # Restore, on the host that owns the data, into a new directory below its restore root.
        code, _, body = self.obs.request("POST", "/api/v1/agents/web-prod/policies/prod-data/restore",
                                         json.dumps({"snapshot": "latest", "target": "from-ui"}).encode(),
                                         {"Authorization": "Bearer " + self.provider.token("agent-prod")})
        self.assertEqual(code, 202, body)
        restored = os.path.join(self.tmp, "agent-web-prod", "restores", "from-ui")
        self.assertTrue(self.obs.wait_until(lambda: os.path.isdir(restored) and any(
            f == "file" for _, _, files in os.walk(restored) for f in files), 60), "the restore did not run")
        code, _, body = self.obs.request("POST", "/api/v1/agents/web-prod/policies/prod-data/restore",
                                         json.dumps({"target": "../../etc"}).encode(),
                                         {"Authorization": "Bearer " + self.provider.token("agent-prod")})
        self.assertEqual(code, 400, body)
        code, _, body = self.obs.request("POST", "/api/v1/agents/web-prod/policies/prod-data/restore",
                                         json.dumps({"snapshot": ["latest"]}).encode(),
                                         {"Authorization": "Bearer " + self.provider.token("agent-prod")})
        self.assertEqual(code, 400, body)
        denied = self.api("/api/v1/audit?action=jobs.backup&result=denied", "admin-bot")["records"]
        self.assertTrue(denied, "the Reader's refused press is audited")
        # The dev agent's token cannot fetch prod's requests, nor trigger them.
        code, _, _ = self.obs.request("POST", "/api/v1/agents/web-prod/policies/prod-data/backup", b"{}",
                                      {"Authorization": "Bearer " + self.provider.token("agent-dev")})
        self.assertEqual(code, 404)

        # Kill the prod agent: its source goes overdue on the observatory's clock.
        killed_at = time.time()
        self.stop_agent("web-prod", signal.SIGKILL)
        overdue = lambda: [e for e in self.hook.events() if e["event"] == "overdue" and e["source"]["host"] == "web-prod"]
        self.assertTrue(self.obs.wait_until(overdue, 60 + WINDOW + GRACE + 30),
                        (self.hook.events(), self.api("/api/v1/freshness"), self.api("/api/v1/agents")))
        waited = time.time() - killed_at
        self.assertLessEqual(waited, 60 + WINDOW + GRACE + 5, f"overdue after {waited:.0f} s")
        self.assertIn("its agent is not heard from", overdue()[0]["detail"])
        self.assertEqual(self.source("web-prod")["state"], "overdue")
        self.assertEqual(self.source("web-dev")["state"], "ok")
        print(f"overdue notified {waited:.0f} s after the agent died (schedule 60 s, window {WINDOW} s, "
              f"grace {GRACE} s)", file=__import__("sys").stderr)

        # Restart it: one catch-up run, the missed ticks reported, and recovered.
        self.stop_agent("web-prod")
        self.start_agent("web-prod", "rg-prod", "agent-prod")
        recovered = lambda: [e for e in self.hook.events() if e["event"] == "recovered" and e["source"]["host"] == "web-prod"]
        self.assertTrue(self.obs.wait_until(recovered, 120), self.hook.events())
        self.assertEqual(recovered()[0]["incident_id"], overdue()[0]["incident_id"])
        missed = [j for j in self.api("/api/v1/jobs?kind=missed")["jobs"] if j["host"] == "web-prod"]
        self.assertTrue(missed and missed[0]["tags"]["backspan.missed.reason"] == "agent_down", missed)
        # One notification per incident: a single overdue for web-prod.
        self.assertEqual(len(overdue()), 1)


if __name__ == "__main__":
    unittest.main()
