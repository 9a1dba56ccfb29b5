"""The helix CLI against a real helixd, over the Unix socket and over TCP
with SigV4: submit, wait (exit codes), logs, jobs, describe, cancel,
terminate, apply, credentials, and errors that name the field."""

import json
import os
import subprocess
import unittest

from helixd import BIN, Helixd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd(["--min-attempt-duration", "1", "--kill-grace", "1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def helix(self, *args, endpoint=None, env_extra=None, check=True):
        env = dict(os.environ)
        env["HELIX_ENDPOINT"] = endpoint or f"unix://{self.d.socket}"
        env.update(env_extra or {})
        proc = subprocess.run([os.path.join(BIN, "helix"), *args], env=env, capture_output=True,
                              text=True, timeout=120, cwd=REPO)
        if check and proc.returncode != 0:
            raise AssertionError(f"helix {' '.join(args)} -> {proc.returncode}: {proc.stderr}")
        return proc

    def test_submit_wait_and_logs(self):
        job_id = self.helix("submit", "--env", "WHO=cli", "--", "sh", "-c", "echo hi $WHO").stdout.strip()
        self.assertEqual(self.helix("wait", job_id).returncode, 0)
        self.assertEqual(self.helix("logs", job_id).stdout, "hi cli\n")
        detail = json.loads(self.helix("describe", job_id, "--output", "json").stdout)
        self.assertEqual(detail[0]["status"] if isinstance(detail, list) else detail["jobs"][0]["status"],
                         "SUCCEEDED")

    def test_logs_follow_prints_every_attempt_of_a_retried_job(self):
        # Attempt 1 fails after a moment, attempt 2 succeeds: -f follows both.
        script = 'sleep 0.3; echo "attempt $AWS_BATCH_JOB_ATTEMPT"; [ "$AWS_BATCH_JOB_ATTEMPT" -ge 2 ]'
        job_id = self.helix("submit", "--retries", "2", "--", "sh", "-c", script).stdout.strip()
        proc = self.helix("logs", "-f", job_id)
        self.assertEqual(proc.stdout, "attempt 1\nattempt 2\n")
        self.assertIn(f"job {job_id} is retried: attempt 2", proc.stderr)
        # --attempt pins one attempt.
        self.assertEqual(self.helix("logs", "--attempt", "1", job_id).stdout, "attempt 1\n")

    def test_wait_exits_with_the_jobs_exit_code(self):
        job_id = self.helix("submit", "--", "sh", "-c", "exit 7").stdout.strip()
        proc = self.helix("wait", job_id, check=False)
        self.assertEqual(proc.returncode, 7)
        self.assertIn("FAILED", proc.stdout + proc.stderr)

    def test_submit_with_dependencies_arrays_and_retries(self):
        first = self.helix("submit", "--name", "first", "--", "true").stdout.strip()
        array = self.helix("submit", "--array-size", "3", "--depends-on", first, "--retries", "2",
                           "--", "sh", "-c", "exit 0").stdout.strip()
        self.assertEqual(self.helix("wait", array).returncode, 0)
        listing = self.helix("jobs", "--array-job", array).stdout
        self.assertEqual(listing.count("SUCCEEDED"), 3, listing)
        job = self.d.describe(array)
        self.assertEqual(job["dependsOn"], [{"jobId": first}])
        self.assertEqual(self.d.describe(f"{array}:0")["retryStrategy"]["attempts"], 2)

    def test_cancel_and_terminate(self):
        sleeper = self.helix("submit", "--", "sleep", "100").stdout.strip()
        waiting = self.helix("submit", "--depends-on", sleeper, "--", "true").stdout.strip()
        self.helix("cancel", waiting, "--reason", "no longer needed")
        self.d.wait_status(sleeper, ["RUNNING"])
        self.helix("terminate", sleeper, "--reason", "enough")
        self.assertNotEqual(self.helix("wait", sleeper, check=False).returncode, 0)
        self.assertTrue(self.d.describe(sleeper)["isTerminated"])
        self.assertTrue(self.d.describe(waiting)["isCancelled"])

    def test_apply_registers_definitions_and_is_idempotent(self):
        out = self.helix("apply", "jobdefs/").stdout
        self.assertIn("hello-native", out)
        again = self.helix("apply", "jobdefs/").stdout
        self.assertIn("unchanged", again)
        job_id = self.helix("submit", "--definition", "hello-native", "--param", "greeting=bonjour").stdout.strip()
        self.assertEqual(self.helix("wait", job_id).returncode, 0)
        self.assertIn("bonjour from", self.helix("logs", job_id).stdout)

    def test_errors_name_the_field(self):
        proc = self.helix("submit", "--array-size", "1", "--", "true", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("arrayProperties.size: 1 is below the minimum of 2", proc.stderr)
        proc = self.helix("submit", "--queue", "nope", "--", "true", check=False)
        self.assertIn("Job Queue nope does not exist.", proc.stderr)

    def test_over_tcp_with_sigv4_credentials(self):
        key, secret = self.d.credentials()
        env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        job_id = self.helix("submit", "--", "true", endpoint=self.d.endpoint(), env_extra=env).stdout.strip()
        self.assertEqual(self.helix("wait", job_id, endpoint=self.d.endpoint(), env_extra=env).returncode, 0)
        bad = dict(env, AWS_SECRET_ACCESS_KEY="x" * 40)
        proc = self.helix("jobs", endpoint=self.d.endpoint(), env_extra=bad, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("signature", proc.stderr.lower())

    def test_credentials_for_the_caller(self):
        proc = self.helix("credentials")
        self.assertIn("aws_access_key_id", proc.stdout)
        self.assertIn("[helix]", proc.stdout)


if __name__ == "__main__":
    unittest.main()
