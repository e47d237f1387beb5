"""The alerting rules and the Grafana dashboard shipped in docs/ against the
metrics the observatory really exposes: promtool checks and unit-tests the
rules and lints a live /metrics scrape (with an agent's heartbeat and
notifications configured), and every metric the rules and dashboard use is
in that scrape."""
import json
import os
import re
import subprocess
import unittest

from helpers import CliTestCase
from observatory import Observatory
from test_agent import AgentTestCase

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def promtool(*args):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)


class PrometheusTest(AgentTestCase):
    def test_rules_check_and_pass_their_unit_tests(self):
        r = promtool("check", "rules", os.path.join(ROOT, "docs", "alerts.yml"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = promtool("test", "rules", os.path.join(ROOT, "tests", "prometheus", "alerts_test.yml"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_live_metrics_lint_and_hold_every_name_the_rules_and_dashboard_use(self):
        self.token_file = os.path.join(self.tmp, "token")
        with open(self.token_file, "w") as f:
            f.write("prometheus-test-token-0123456789\n")
        notify = os.path.join(self.tmp, "notify.toml")
        with open(notify, "w") as f:
            f.write('[[channel]]\nname = "c"\ntype = "command"\ncommand = "true"\n'
                    '[[rule]]\non = ["failure"]\nchannels = ["c"]\n')
        obs = Observatory(os.path.join(self.tmp, "obs"), self.env, "--ingest-token-file", self.token_file, "--notify", notify)
        self.addCleanup(obs.stop)
        self.write_config([self.policy()], observatory=obs)
        r = self.agent("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        code, _, body = obs.request("GET", "/metrics", headers={"Authorization": "Bearer prometheus-test-token-0123456789"})
        self.assertEqual(code, 200)
        text = body.decode()
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        exposed = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )", text, re.M))
        used = set()
        with open(os.path.join(ROOT, "docs", "alerts.yml")) as f:
            used |= set(re.findall(r"\b(backspan_[a-z_]+)", f.read()))
        with open(os.path.join(ROOT, "docs", "grafana-dashboard.json")) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                used |= set(re.findall(r"\b(backspan_[a-z_]+)", target["expr"]))
        self.assertGreater(len(used), 10)
        self.assertEqual(sorted(used - exposed), [], "metrics the rules or dashboard use that /metrics lacks")


if __name__ == "__main__":
    unittest.main()
