"""Debian's aws CLI v2 and boto3 against helixd over TCP with SigV4: every
Batch operation helix supports, and the 403 an unsigned or badly signed
request gets."""

import json
import os
import subprocess
import unittest
import urllib.request
import urllib.error

from helixd import AWS, Helixd


class AwsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd(["--min-attempt-duration", "1", "--kill-grace", "1"])

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_every_operation_through_the_aws_cli(self):
        aws = self.d.aws
        ce = aws("create-compute-environment", "--compute-environment-name", "onprem",
                 "--type", "UNMANAGED", "--unmanagedv-cpus", "2")
        self.assertTrue(ce["computeEnvironmentArn"].endswith(":compute-environment/onprem"))
        q = aws("create-job-queue", "--job-queue-name", "cli-q", "--priority", "10",
                "--compute-environment-order", "order=1,computeEnvironment=onprem")
        self.assertTrue(q["jobQueueArn"].endswith(":job-queue/cli-q"))
        queues = aws("describe-job-queues", "--job-queues", "cli-q")["jobQueues"]
        self.assertEqual(queues[0]["priority"], 10)
        self.assertEqual(queues[0]["state"], "ENABLED")
        aws("update-job-queue", "--job-queue", "cli-q", "--priority", "20")
        self.assertEqual(aws("describe-job-queues", "--job-queues", "cli-q")["jobQueues"][0]["priority"], 20)
        envs = aws("describe-compute-environments", "--compute-environments", "onprem")
        self.assertEqual(envs["computeEnvironments"][0]["type"], "UNMANAGED")
        definition = {"jobDefinitionName": "cli-def", "type": "native",
                      "parameters": {"msg": "default"},
                      "containerProperties": {"command": ["sh", "-c", "echo $0; exit ${CODE:-0}", "Ref::msg"],
                                              "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                                                       {"type": "MEMORY", "value": "64"}]}}
        reg = aws("register-job-definition", "--cli-input-json", json.dumps(definition))
        self.assertEqual(reg["revision"], 1)
        reg2 = aws("register-job-definition", "--cli-input-json", json.dumps(definition))
        self.assertEqual(reg2["revision"], 2)
        aws("deregister-job-definition", "--job-definition", "cli-def:1")
        defs = aws("describe-job-definitions", "--job-definition-name", "cli-def")["jobDefinitions"]
        self.assertEqual(sorted((d["revision"], d["status"]) for d in defs),
                         [(1, "INACTIVE"), (2, "ACTIVE")])
        refused = aws("submit-job", "--job-name", "old", "--job-queue", "cli-q",
                      "--job-definition", "cli-def:1", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("is not in ACTIVE status", refused.stderr)

        first = aws("submit-job", "--job-name", "first", "--job-queue", "cli-q",
                    "--job-definition", "cli-def", "--parameters", "msg=hello",
                    "--retry-strategy", "attempts=2", "--timeout", "attemptDurationSeconds=60")
        array = aws("submit-job", "--job-name", "arr", "--job-queue", "cli-q",
                    "--job-definition", "cli-def", "--array-properties", "size=3",
                    "--depends-on", f"jobId={first['jobId']}",
                    "--container-overrides", json.dumps({"environment": [{"name": "CODE", "value": "0"}]}))
        self.d.wait(array["jobId"])
        described = aws("describe-jobs", "--jobs", first["jobId"], array["jobId"])["jobs"]
        by_id = {j["jobId"]: j for j in described}
        self.assertEqual(by_id[first["jobId"]]["status"], "SUCCEEDED")
        self.assertEqual(by_id[first["jobId"]]["container"]["command"], ["sh", "-c", "echo $0; exit ${CODE:-0}", "hello"])
        self.assertEqual(by_id[first["jobId"]]["retryStrategy"]["attempts"], 2)
        self.assertEqual(by_id[first["jobId"]]["timeout"]["attemptDurationSeconds"], 60)
        self.assertEqual(by_id[array["jobId"]]["arrayProperties"]["statusSummary"]["SUCCEEDED"], 3)
        children = aws("list-jobs", "--array-job-id", array["jobId"], "--job-status", "SUCCEEDED")
        self.assertEqual(len(children["jobSummaryList"]), 3)
        succeeded = aws("list-jobs", "--job-queue", "cli-q", "--job-status", "SUCCEEDED")
        self.assertEqual({j["jobId"] for j in succeeded["jobSummaryList"]},
                         {first["jobId"], array["jobId"]})
        running_only = aws("list-jobs", "--job-queue", "cli-q")  # AWS: RUNNING by default
        self.assertEqual(running_only["jobSummaryList"], [])

        sleeper = aws("submit-job", "--job-name", "sleeper", "--job-queue", "cli-q",
                      "--job-definition", "cli-def",
                      "--container-overrides", json.dumps({"command": ["sleep", "100"]}))
        waiting = aws("submit-job", "--job-name", "waiting", "--job-queue", "cli-q",
                      "--job-definition", "cli-def", "--depends-on", f"jobId={sleeper['jobId']}")
        aws("cancel-job", "--job-id", waiting["jobId"], "--reason", "cli cancel")
        self.d.wait_status(sleeper["jobId"], ["RUNNING"])
        aws("terminate-job", "--job-id", sleeper["jobId"], "--reason", "cli terminate")
        self.assertTrue(self.d.wait(waiting["jobId"])["isCancelled"])
        terminated = self.d.wait(sleeper["jobId"])
        self.assertTrue(terminated["isTerminated"])
        self.assertEqual(terminated["statusReason"], "cli terminate")

        bad = aws("submit-job", "--job-name", "bad", "--job-queue", "cli-q",
                  "--job-definition", "cli-def", "--array-properties", "size=1", check=False)
        self.assertEqual(bad.returncode, 254)
        self.assertIn("ClientException", bad.stderr)
        self.assertIn("arrayProperties.size: 1 is below the minimum of 2", bad.stderr)

        aws("update-job-queue", "--job-queue", "cli-q", "--state", "DISABLED")
        aws("delete-job-queue", "--job-queue", "cli-q")
        self.assertEqual(aws("describe-job-queues", "--job-queues", "cli-q")["jobQueues"], [])
        aws("update-compute-environment", "--compute-environment", "onprem", "--state", "DISABLED")
        aws("delete-compute-environment", "--compute-environment", "onprem")

    def test_boto3_submit_describe_and_list(self):
        batch = self.d.boto3()
        job = batch.submit_job(jobName="boto", jobQueue="default", jobDefinition="helix-command",
                               containerOverrides={"command": ["true"]})
        self.d.wait(job["jobId"])
        detail = batch.describe_jobs(jobs=[job["jobId"]])["jobs"][0]
        self.assertEqual(detail["status"], "SUCCEEDED")
        self.assertIsInstance(detail["createdAt"], int)
        with self.assertRaises(batch.exceptions.ClientException) as ctx:
            batch.submit_job(jobName="boto", jobQueue="nope", jobDefinition="helix-command",
                             containerOverrides={"command": ["true"]})
        self.assertIn("Job Queue nope does not exist.", str(ctx.exception))

    def test_tags_of_existing_resources_through_the_aws_cli_and_boto3(self):
        aws = self.d.aws
        q = aws("create-job-queue", "--job-queue-name", "tagged-q", "--priority", "1",
                "--compute-environment-order", "order=1,computeEnvironment=local",
                "--tags", "team=imaging")["jobQueueArn"]
        self.assertEqual(aws("list-tags-for-resource", "--resource-arn", q)["tags"],
                         {"team": "imaging"})
        aws("tag-resource", "--resource-arn", q, "--tags", "team=genomics,cost=lab-7")
        self.assertEqual(aws("list-tags-for-resource", "--resource-arn", q)["tags"],
                         {"team": "genomics", "cost": "lab-7"})
        aws("untag-resource", "--resource-arn", q, "--tag-keys", "team", "absent")
        self.assertEqual(aws("list-tags-for-resource", "--resource-arn", q)["tags"],
                         {"cost": "lab-7"})
        # DescribeJobQueues shows the same tags: they are the queue's own.
        described = aws("describe-job-queues", "--job-queues", "tagged-q")["jobQueues"][0]
        self.assertEqual(described["tags"], {"cost": "lab-7"})
        # Bad input is refused whole: nothing of the request is kept.
        refused = aws("tag-resource", "--resource-arn", q, "--tags", "ok=1,aws:owner=me",
                      check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("tags.aws:owner", refused.stderr)
        self.assertEqual(aws("list-tags-for-resource", "--resource-arn", q)["tags"],
                         {"cost": "lab-7"})
        missing = aws("list-tags-for-resource", "--resource-arn",
                      q.replace("tagged-q", "no-such-q"), check=False)
        self.assertIn("no such resource", missing.stderr)

        # A job, through boto3, while it runs and after it ended.
        batch = self.d.boto3()
        job = batch.submit_job(jobName="tagged", jobQueue="default", jobDefinition="helix-command",
                               containerOverrides={"command": ["sleep", "0.5"]},
                               tags={"run": "1"})
        batch.tag_resource(resourceArn=job["jobArn"], tags={"sample": "S1"})
        self.d.wait(job["jobId"])
        batch.untag_resource(resourceArn=job["jobArn"], tagKeys=["run"])
        self.assertEqual(batch.list_tags_for_resource(resourceArn=job["jobArn"])["tags"],
                         {"sample": "S1"})
        self.assertEqual(batch.describe_jobs(jobs=[job["jobId"]])["jobs"][0]["tags"],
                         {"sample": "S1"})
        # Tags survive kill -9 of helixd: each change was committed.
        self.d.kill9()
        self.d.start()
        self.assertEqual(aws("list-tags-for-resource", "--resource-arn", q)["tags"],
                         {"cost": "lab-7"})
        self.assertEqual(self.d.boto3().list_tags_for_resource(resourceArn=job["jobArn"])["tags"],
                         {"sample": "S1"})

    def test_unsigned_and_badly_signed_requests_get_403(self):
        req = urllib.request.Request(self.d.endpoint() + "/v1/describejobqueues", data=b"{}",
                                     headers={"Content-Type": "application/json"}, method="POST")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 403)
        self.assertEqual(ctx.exception.headers["x-amzn-ErrorType"], "MissingAuthenticationTokenException")
        env = self.d.aws_env()
        env["AWS_SECRET_ACCESS_KEY"] = "wrong" + env["AWS_SECRET_ACCESS_KEY"][5:]
        proc = subprocess.run([AWS, "batch", "describe-job-queues", "--endpoint-url", self.d.endpoint()],
                              env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("InvalidSignatureException", proc.stderr)


if __name__ == "__main__":
    unittest.main()
