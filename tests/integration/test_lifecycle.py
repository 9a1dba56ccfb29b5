"""Job lifecycle against a real helixd over its Unix socket: retries with
evaluateOnExit, timeouts, arrays, dependencies, cascades, cancel and
terminate, environment, logs, exec failures and bad input."""

import os
import time
import unittest

from helixd import ApiError, Helixd


class LifecycleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd(["--min-attempt-duration", "1", "--kill-grace", "1"])
        cls.tmp = os.path.join(cls.d.state_dir, "work")
        os.makedirs(cls.tmp, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_success_environment_and_log(self):
        body = {"command": ["sh", "-c", 'echo "id=$AWS_BATCH_JOB_ID attempt=$AWS_BATCH_JOB_ATTEMPT '
                            'q=$AWS_BATCH_JQ_NAME ce=$AWS_BATCH_CE_NAME x=$X"; echo err >&2'],
                "environment": [{"name": "X", "value": "42"}]}
        job_id = self.d.batch("SubmitJob", {"jobName": "envtest", "jobQueue": "default",
                                            "jobDefinition": "helix-command",
                                            "containerOverrides": body})["jobId"]
        job = self.d.wait(job_id)
        self.assertEqual(job["status"], "SUCCEEDED", job)
        self.assertEqual(job["container"]["exitCode"], 0)
        self.assertGreaterEqual(job["stoppedAt"], job["startedAt"])
        self.assertGreaterEqual(job["startedAt"], job["createdAt"])
        log = self.d.log(job_id)
        self.assertIn(f"id={job_id} attempt=1 q=default ce=local x=42", log)
        self.assertIn("err", log)
        self.assertTrue(job["jobQueue"].endswith(":job-queue/default"))
        self.assertTrue(job["jobDefinition"].endswith(":job-definition/helix-command:1"))

    def test_exec_failure_names_the_error(self):
        job_id = self.d.submit(["/no/such/program"])
        job = self.d.wait(job_id)
        self.assertEqual(job["status"], "FAILED")
        reason = job["attempts"][0]["container"]["reason"]
        self.assertTrue(reason.startswith("CannotStartContainerError:"), reason)
        self.assertIn("No such file or directory", reason)
        self.assertNotIn("exitCode", job["attempts"][0]["container"])

    def test_retries_follow_evaluate_on_exit(self):
        counter = os.path.join(self.tmp, "retry-count")
        script = f'n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; ' \
                 f'[ $n -ge 3 ] && exit 7; exit 1'
        job_id = self.d.submit(["sh", "-c", script], retryStrategy={
            "attempts": 5, "evaluateOnExit": [{"onExitCode": "7", "action": "EXIT"},
                                              {"onExitCode": "1", "action": "retry"}]})
        job = self.d.wait(job_id)
        self.assertEqual(job["status"], "FAILED")
        self.assertEqual([a["container"]["exitCode"] for a in job["attempts"]], [1, 1, 7])
        self.assertEqual(job["statusReason"], "Essential container in task exited")

    def test_no_matching_rule_retries_until_attempts_run_out(self):
        job_id = self.d.submit(["sh", "-c", "exit 4"], retryStrategy={
            "attempts": 2, "evaluateOnExit": [{"onExitCode": "9", "action": "EXIT"}]})
        job = self.d.wait(job_id)
        self.assertEqual(len(job["attempts"]), 2)

    def test_timeout_kills_the_group_and_is_not_retried(self):
        job_id = self.d.submit(["sh", "-c", "trap '' TERM; sleep 100 & sleep 100; wait"],
                               timeout={"attemptDurationSeconds": 1}, retryStrategy={"attempts": 3})
        job = self.d.wait(job_id, timeout=30)
        self.assertEqual(job["status"], "FAILED")
        self.assertEqual(job["statusReason"], "Job attempt duration exceeded timeout")
        self.assertEqual(len(job["attempts"]), 1)
        self.assertEqual(job["attempts"][0]["container"]["exitCode"], 137)  # SIGKILL after grace
        duration = job["attempts"][0]["stoppedAt"] - job["attempts"][0]["startedAt"]
        self.assertGreaterEqual(duration, 1900)
        self.assertLess(duration, 10000)

    def test_cancel_is_a_no_op_when_running_terminate_is_not(self):
        job_id = self.d.submit(["sleep", "100"])
        self.d.wait_status(job_id, ["RUNNING"])
        self.d.batch("CancelJob", {"jobId": job_id, "reason": "cancel me"})
        time.sleep(0.3)
        self.assertEqual(self.d.describe(job_id)["status"], "RUNNING")
        self.d.batch("TerminateJob", {"jobId": job_id, "reason": "stop now"})
        job = self.d.wait(job_id, timeout=30)
        self.assertEqual(job["status"], "FAILED")
        self.assertTrue(job["isTerminated"])
        self.assertEqual(job["statusReason"], "stop now")
        self.assertEqual(job["attempts"][0]["container"]["exitCode"], 143)  # SIGTERM

    def test_cancel_of_a_pending_job_and_its_cascade(self):
        blocker = self.d.submit(["sleep", "100"])
        dependent = self.d.submit(["true"], dependsOn=[{"jobId": blocker}])
        second = self.d.submit(["true"], dependsOn=[{"jobId": dependent}])
        self.d.wait_status(dependent, ["PENDING"])
        self.d.batch("CancelJob", {"jobId": dependent, "reason": "not needed"})
        job = self.d.wait(dependent)
        self.assertTrue(job["isCancelled"])
        self.assertTrue(job["statusReason"].startswith("not needed"))
        cascaded = self.d.wait(second)
        self.assertEqual(cascaded["status"], "FAILED")
        self.assertTrue(cascaded["statusReason"].startswith(f"Dependent Job failed: {dependent}"))
        self.d.batch("TerminateJob", {"jobId": blocker, "reason": "cleanup"})
        self.d.wait(blocker)

    def test_failure_cascades_through_a_chain(self):
        first = self.d.submit(["false"])
        chain = [first]
        for _ in range(3):
            chain.append(self.d.submit(["true"], dependsOn=[{"jobId": chain[-1]}]))
        for job_id in chain[1:]:
            job = self.d.wait(job_id)
            self.assertEqual(job["status"], "FAILED")
            self.assertEqual(job["attempts"], [])
        self.assertIn(first, self.d.describe(chain[1])["statusReason"])

    def test_array_of_1000_children(self):
        out = os.path.join(self.tmp, "array-1000")
        os.makedirs(out, exist_ok=True)
        parent = self.d.submit(["sh", "-c", f'touch {out}/$AWS_BATCH_JOB_ARRAY_INDEX-of-$AWS_BATCH_JOB_ARRAY_SIZE'],
                               arrayProperties={"size": 1000})
        job = self.d.wait(parent, timeout=300)
        self.assertEqual(job["status"], "SUCCEEDED", job.get("statusReason"))
        self.assertEqual(job["arrayProperties"]["size"], 1000)
        self.assertEqual(job["arrayProperties"]["statusSummary"]["SUCCEEDED"], 1000)
        self.assertEqual(sorted(os.listdir(out)), sorted(f"{i}-of-1000" for i in range(1000)))
        child = self.d.describe(f"{parent}:999")
        self.assertEqual(child["arrayProperties"], {"index": 999})
        listed = self.d.batch("ListJobs", {"arrayJobId": parent, "jobStatus": "SUCCEEDED",
                                           "maxResults": 1000})
        self.assertEqual(len(listed["jobSummaryList"]), 1000)
        self.assertEqual(listed["jobSummaryList"][0]["jobId"], f"{parent}:0")

    def test_n_to_n_and_sequential(self):
        log = os.path.join(self.tmp, "order.log")
        first = self.d.submit(["sh", "-c", f'sleep 0.$((3 - AWS_BATCH_JOB_ARRAY_INDEX)); '
                                           f'echo A$AWS_BATCH_JOB_ARRAY_INDEX >> {log}'],
                              arrayProperties={"size": 3})
        second = self.d.submit(["sh", "-c", f'echo B$AWS_BATCH_JOB_ARRAY_INDEX >> {log}'],
                               arrayProperties={"size": 3}, dependsOn=[{"jobId": first, "type": "N_TO_N"}])
        third = self.d.submit(["sh", "-c", f'echo C$AWS_BATCH_JOB_ARRAY_INDEX >> {log}'],
                              arrayProperties={"size": 3}, dependsOn=[{"type": "SEQUENTIAL"}, {"jobId": second}])
        self.assertEqual(self.d.wait(third)["status"], "SUCCEEDED")
        lines = open(log).read().split()
        for i in range(3):
            self.assertLess(lines.index(f"A{i}"), lines.index(f"B{i}"))
            self.assertLess(lines.index(f"B{i}"), lines.index("C0"))
        self.assertEqual([l for l in lines if l.startswith("C")], ["C0", "C1", "C2"])

    def test_sequential_failure_fails_the_rest(self):
        parent = self.d.submit(["sh", "-c", '[ "$AWS_BATCH_JOB_ARRAY_INDEX" != 1 ]'],
                               arrayProperties={"size": 4}, dependsOn=[{"type": "SEQUENTIAL"}])
        job = self.d.wait(parent)
        self.assertEqual(job["status"], "FAILED")
        summary = job["arrayProperties"]["statusSummary"]
        self.assertEqual((summary["SUCCEEDED"], summary["FAILED"]), (1, 3))
        self.assertEqual(self.d.describe(f"{parent}:3")["attempts"], [])

    def test_parameters_substitute_in_the_command_only(self):
        self.d.batch("RegisterJobDefinition", {
            "jobDefinitionName": "echo-param", "type": "native",
            "parameters": {"word": "default", "other": "kept"},
            "containerProperties": {"command": ["echo", "Ref::word", "Ref::other"],
                                    "environment": [{"name": "W", "value": "Ref::word"}]}})
        job_id = self.d.batch("SubmitJob", {"jobName": "p", "jobQueue": "default",
                                            "jobDefinition": "echo-param",
                                            "parameters": {"word": "hello"}})["jobId"]
        job = self.d.wait(job_id)
        self.assertEqual(job["container"]["command"], ["echo", "hello", "kept"])
        self.assertEqual(job["parameters"], {"word": "hello", "other": "kept"})
        self.assertIn("hello kept", self.d.log(job_id))

    def test_bad_input_is_refused_whole_and_nothing_is_stored(self):
        before = self.d.batch("ListJobs", {"jobQueue": "default",
                                           "filters": [{"name": "JOB_NAME", "values": ["refused*"]}]})
        cases = [
            ({"jobName": "refused1", "jobQueue": "default", "jobDefinition": "helix-command",
              "containerOverrides": {"command": ["true"]}, "arrayProperties": {"size": 1}},
             "arrayProperties.size: 1 is below the minimum of 2"),
            ({"jobName": "refused2", "jobQueue": "nope", "jobDefinition": "helix-command",
              "containerOverrides": {"command": ["true"]}}, "Job Queue nope does not exist."),
            ({"jobName": "refused3", "jobQueue": "default", "jobDefinition": "missing"},
             "JobDefinition missing has no ACTIVE revision"),
            ({"jobName": "refused4", "jobQueue": "default", "jobDefinition": "helix-command",
              "containerOverrides": {"command": ["true"], "colour": 1}},
             "containerOverrides.colour: unknown field"),
            ({"jobName": "refused5", "jobQueue": "default", "jobDefinition": "helix-command",
              "containerOverrides": {"command": ["true"]},
              "dependsOn": [{"jobId": "00000000-0000-4000-8000-000000000000"}]},
             "dependsOn[0].jobId: job 00000000-0000-4000-8000-000000000000 does not exist"),
            ({"jobName": "refused6", "jobQueue": "default", "jobDefinition": "helix-command",
              "containerOverrides": {"command": ["x" * 40000]}}, "SubmitJob maximum is 30720"),
            ({"jobName": "refused7", "jobQueue": "default", "jobDefinition": "helix-command"},
             "containerOverrides.command: is required"),
        ]
        for body, expected in cases:
            with self.assertRaises(ApiError) as ctx:
                self.d.batch("SubmitJob", body)
            self.assertEqual(ctx.exception.status, 400)
            self.assertEqual(ctx.exception.error_type, "ClientException")
            self.assertIn(expected, ctx.exception.message)
        with self.assertRaises(ApiError) as ctx:
            self.d.request("POST", "/v1/submitjob", None)
        after = self.d.batch("ListJobs", {"jobQueue": "default",
                                          "filters": [{"name": "JOB_NAME", "values": ["refused*"]}]})
        self.assertEqual(before, after)

    def test_disabled_queue_refuses_new_jobs(self):
        self.d.batch("CreateJobQueue", {"jobQueueName": "closed", "priority": 1, "state": "DISABLED",
                                        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "local"}]})
        with self.assertRaises(ApiError) as ctx:
            self.d.submit(["true"], queue="closed")
        self.assertIn("DISABLED", ctx.exception.message)

    def test_a_job_larger_than_the_node_fails_at_once_with_the_numbers(self):
        job_id = self.d.submit(["true"], containerOverrides={
            "command": ["true"], "resourceRequirements": [{"type": "VCPU", "value": "4096"}]})
        small = self.d.submit(["true"])
        job = self.d.wait(job_id)
        self.assertEqual(job["status"], "FAILED")
        self.assertFalse(job["isCancelled"])
        self.assertTrue(job["statusReason"].startswith(
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs 4096 vCPUs"), job["statusReason"])
        self.assertEqual(job["attempts"], [])
        self.assertEqual(self.d.wait(small)["status"], "SUCCEEDED")

    def test_a_queue_with_a_time_limit_action_keeps_it_runnable_as_aws_does(self):
        self.d.batch("CreateJobQueue", {
            "jobQueueName": "patient", "priority": 1,
            "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "local"}],
            "jobStateTimeLimitActions": [{"reason": "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
                                          "state": "RUNNABLE", "maxTimeSeconds": 600,
                                          "action": "CANCEL"}]})
        queue = self.d.batch("DescribeJobQueues", {"jobQueues": ["patient"]})["jobQueues"][0]
        self.assertEqual(queue["jobStateTimeLimitActions"][0]["maxTimeSeconds"], 600)
        job_id = self.d.submit(["true"], queue="patient", containerOverrides={
            "command": ["true"], "resourceRequirements": [{"type": "VCPU", "value": "4096"}]})
        small = self.d.submit(["true"], queue="patient")
        self.assertEqual(self.d.wait(small)["status"], "SUCCEEDED")  # not blocked behind it
        job = self.d.describe(job_id)
        self.assertEqual(job["status"], "RUNNABLE")
        self.assertTrue(job["statusReason"].startswith(
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs 4096 vCPUs"), job["statusReason"])
        self.d.batch("CancelJob", {"jobId": job_id, "reason": "too big"})
        self.assertEqual(self.d.wait(job_id)["status"], "FAILED")

    def test_time_limit_actions_are_validated_whole(self):
        with self.assertRaises(ApiError) as e:
            self.d.batch("CreateJobQueue", {
                "jobQueueName": "bad", "priority": 1,
                "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "local"}],
                "jobStateTimeLimitActions": [{"reason": "SOMETHING", "state": "RUNNING",
                                              "maxTimeSeconds": 5, "action": "CANCEL"}]})
        message = e.exception.message
        self.assertIn("jobStateTimeLimitActions[0].reason", message)
        self.assertIn("jobStateTimeLimitActions[0].state", message)
        self.assertIn("jobStateTimeLimitActions[0].maxTimeSeconds", message)

if __name__ == "__main__":
    unittest.main()
