"""A real OpenID Connect provider for the access tests (oidc-provider from
npm, tests/oidc/provider.mjs), the clients it knows with the claims it puts
in their tokens, and an access configuration that gives them roles."""
import base64
import json
import os
import ssl
import subprocess
import time
import urllib.request

PROVIDER = os.path.join(os.path.dirname(__file__), "../oidc/provider.mjs")
NOW = int(time.time())
SECRET = "s3cret-for-tests-only-0123456789"

# client -> claims the provider adds to its tokens
CLIENTS = {
    "agent-prod": {"tid": "t1"},
    "agent-dev": {"tid": "t1"},
    "reader-prod": {"tid": "t1"},
    "reader-env": {"tid": "t1"},
    "contrib-prod": {"tid": "t1"},
    "sre-bot": {"tid": "t1", "groups": ["sre-team"]},
    "admin-bot": {"tid": "t1", "roles": ["Backup.Owner"]},
    "nobody": {"tid": "t1"},
    "other-tenant": {"tid": "t2", "groups": ["sre-team"]},
}

ACCESS = {
    "claims": {"app": "client_id", "tenant": "tid"},
    "tenant": "t1",
    "assignments": [
        {"principal": "app:agent-prod", "role": "Backup Operator", "scope": {"resource_groups": ["rg-prod"]}},
        {"principal": "app:agent-dev", "role": "Backup Operator", "scope": {"resource_groups": ["rg-dev"]}},
        {"principal": "app:reader-prod", "role": "Backup Reader", "scope": {"resource_groups": ["rg-prod"]}},
        {"principal": "app:reader-env", "role": "Backup Reader", "scope": {"tags": {"env": "prod"}}},
        {"principal": "app:contrib-prod", "role": "Backup Contributor", "scope": {"resource_groups": ["rg-prod"]}},
        {"principal": "group:sre-team", "role": "Backup Reader", "scope": "*"},
        {"principal": "role:Backup.Owner", "role": "Owner", "scope": "*"},
    ],
}


def b64(obj):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Provider:
    def __init__(self, tmp, tls=None, ca=None):
        cfg = os.path.join(tmp, "oidc-clients.json")
        self.ssl = ssl.create_default_context(cafile=ca) if ca else None
        with open(cfg, "w") as f:
            json.dump({"clients": [{"client_id": c, "client_secret": SECRET + c, "claims": claims}
                                   for c, claims in CLIENTS.items()], **({"tls": tls} if tls else {})}, f)
        self.proc = subprocess.Popen(["node", PROVIDER, cfg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        first = json.loads(self.proc.stdout.readline())
        self.issuer, self.kid = first["issuer"], first["kid"]

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def token(self, client):
        req = urllib.request.Request(self.issuer + "/token", data=b"grant_type=client_credentials", method="POST")
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{client}:{SECRET}{client}".encode()).decode())
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(req, timeout=10, context=self.ssl) as r:
            return json.loads(r.read())["access_token"]

    def sign(self, claims, header=None, key="provider"):
        return self.command("sign " + json.dumps({"claims": claims, "header": header or {}, "key": key}))["token"]

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=10)


