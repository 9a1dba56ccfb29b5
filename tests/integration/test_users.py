"""Users: over the Unix socket helixd knows the caller from SO_PEERCRED. A
job runs as the user who submitted it, its log is theirs with mode 0600, and
a user sees and changes only their own jobs. Needs root (skipped otherwise)."""

import json
import os
import pwd
import subprocess
import sys
import unittest

from helixd import Helixd

CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from helixd import UnixHTTPConnection
conn = UnixHTTPConnection(sys.argv[2])
conn.request(sys.argv[3], sys.argv[4], body=sys.argv[5] or None,
             headers={"Content-Type": "application/json"})
resp = conn.getresponse()
print(json.dumps({"status": resp.status, "body": resp.read().decode()}))
"""


@unittest.skipUnless(os.geteuid() == 0, "needs root to switch users")
class UsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd()
        cls.nobody = pwd.getpwnam("nobody")

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def as_nobody(self, method, path, body=None):
        def drop():
            os.setgroups([])
            os.setgid(self.nobody.pw_gid)
            os.setuid(self.nobody.pw_uid)
        out = subprocess.run([sys.executable, "-c", CLIENT, os.path.dirname(os.path.abspath(__file__)),
                              self.d.socket, method, path, json.dumps(body) if body is not None else ""],
                             preexec_fn=drop, capture_output=True, text=True, timeout=60, check=True)
        reply = json.loads(out.stdout)
        return reply["status"], json.loads(reply["body"]) if reply["body"] else None

    def test_job_runs_as_its_submitter_with_a_private_log(self):
        status, body = self.as_nobody("POST", "/v1/submitjob", {
            "jobName": "mine", "jobQueue": "default", "jobDefinition": "helix-command",
            "containerOverrides": {"command": ["sh", "-c", "id -u; echo $USER"]}})
        self.assertEqual(status, 200, body)
        job = self.d.wait(body["jobId"])
        self.assertEqual(job["status"], "SUCCEEDED", job)
        self.assertEqual(job["helix"]["owner"], "nobody")
        log_path = job["helix"]["logPath"]
        st = os.stat(log_path)
        self.assertEqual(st.st_uid, self.nobody.pw_uid)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(log_path) as f:
            self.assertEqual(f.read(), f"{self.nobody.pw_uid}\nnobody\n")
        status, whoami = self.as_nobody("GET", "/helix/v1/whoami")
        self.assertEqual(whoami, {"uid": self.nobody.pw_uid, "userName": "nobody", "admin": False})

    def test_a_user_sees_and_changes_only_their_own_jobs(self):
        root_job = self.d.submit(["sleep", "100"])
        status, body = self.as_nobody("POST", "/v1/describejobs", {"jobs": [root_job]})
        self.assertEqual((status, body["jobs"]), (200, []))
        status, body = self.as_nobody("POST", "/v1/terminatejob", {"jobId": root_job, "reason": "x"})
        self.assertEqual(status, 403)
        self.assertEqual(body["__type"], "AccessDeniedException")
        status, body = self.as_nobody("POST", "/v1/createjobqueue", {
            "jobQueueName": "mine", "priority": 1,
            "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "local"}]})
        self.assertEqual(status, 403)
        self.assertIn("only root may create job queues", body["message"])
        self.d.batch("TerminateJob", {"jobId": root_job, "reason": "cleanup"})
        self.assertEqual(self.d.wait(root_job)["status"], "FAILED")


if __name__ == "__main__":
    unittest.main()
