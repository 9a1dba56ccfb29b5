"""Step Functions executions in a real helixd, driven with boto3 over SigV4:
Batch jobs as .sync tasks (the AWS genomics reference shape), Catch of a
failed job, callbacks with task tokens, nested executions, stop, the
history's shape, and kill -9 of helixd in the middle of a running task."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from helixd import BIN, Helixd


def job_task(name, script, end=True, extra=None):
    """A batch:submitJob.sync task running `sh -c script` on the default queue."""
    state = {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
             "Parameters": {"JobName": name, "JobQueue": "default",
                            "JobDefinition": "helix-command",
                            "ContainerOverrides": {"Command": ["sh", "-c", script]}}}
    state.update(extra or {})
    if end and "Next" not in state:
        state["End"] = True
    return state


class ExecutionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd()
        cls.work = os.path.join(cls.d.state_dir, "work")
        os.makedirs(cls.work, exist_ok=True)
        os.chmod(cls.work, 0o777)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def sfn(self):
        import boto3
        key, secret = self.d.credentials()
        return boto3.client("stepfunctions", endpoint_url=self.d.endpoint(),
                            region_name="us-east-1", aws_access_key_id=key,
                            aws_secret_access_key=secret)

    def machine(self, name, definition):
        return self.sfn().create_state_machine(
            name=name, definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/helix")["stateMachineArn"]

    def wait_done(self, arn, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.sfn().describe_execution(executionArn=arn)
            if d["status"] != "RUNNING":
                return d
            time.sleep(0.1)
        raise TimeoutError(f"{arn} still RUNNING after {timeout}s")

    def history(self, arn):
        pages = self.sfn().get_paginator("get_execution_history").paginate(executionArn=arn)
        return [e for page in pages for e in page["events"]]

    def test_genomics_reference_shape_runs_jobs_in_order(self):
        out = self.work
        definition = {
            "StartAt": "Align",
            "States": {
                "Align": job_task("align", f"echo aligned > {out}/align.txt", end=False, extra={
                    "ResultSelector": {"JobId.$": "$.JobId", "Status.$": "$.Status"},
                    "ResultPath": "$.align", "TimeoutSeconds": 120,
                    "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
                    "Next": "CallAndQC"}),
                "CallAndQC": {
                    "Type": "Parallel", "Next": "Annotate", "ResultPath": "$.branches",
                    "Branches": [
                        {"StartAt": "Call", "States": {"Call": job_task(
                            "call", f"cat {out}/align.txt > {out}/call.txt && echo called >> "
                                    f"{out}/call.txt",
                            extra={"ResultSelector": {"Status.$": "$.Status"}})}},
                        {"StartAt": "QC", "States": {"QC": job_task(
                            "qc", f"test -s {out}/align.txt && echo qc-ok > {out}/qc.txt",
                            extra={"ResultSelector": {"Status.$": "$.Status"}})}}]},
                "Annotate": {"Type": "Pass", "Result": "annotated", "ResultPath": "$.annotate",
                             "End": True}}}
        arn = self.machine("genomics-shape", definition)
        started = self.sfn().start_execution(stateMachineArn=arn, name="NA12878",
                                             input=json.dumps({"sample": "NA12878"}))
        done = self.wait_done(started["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED", done)
        output = json.loads(done["output"])
        self.assertEqual(output["sample"], "NA12878")
        self.assertEqual(output["align"]["Status"], "SUCCEEDED")
        self.assertEqual(output["branches"], [{"Status": "SUCCEEDED"}, {"Status": "SUCCEEDED"}])
        self.assertEqual(output["annotate"], "annotated")
        with open(f"{out}/call.txt") as f:
            self.assertEqual(f.read(), "aligned\ncalled\n")  # ran after Align
        with open(f"{out}/qc.txt") as f:
            self.assertEqual(f.read(), "qc-ok\n")
        # The Align job really is a helix job, described as Batch does.
        job = self.d.describe(output["align"]["JobId"])
        self.assertEqual(job["jobName"], "align")
        self.assertEqual(job["status"], "SUCCEEDED")
        events = self.history(started["executionArn"])
        types = [e["type"] for e in events]
        self.assertEqual(types[0], "ExecutionStarted")
        self.assertEqual(types[-1], "ExecutionSucceeded")
        self.assertEqual([e["id"] for e in events], list(range(1, len(events) + 1)))
        self.assertEqual(types[1:7], ["TaskStateEntered", "TaskScheduled", "TaskStarted",
                                      "TaskSubmitted", "TaskSucceeded", "TaskStateExited"])
        self.assertEqual(types.count("TaskSubmitted"), 3)
        submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
        self.assertEqual(submitted["JobId"], output["align"]["JobId"])
        self.assertEqual(submitted["SdkHttpMetadata"]["HttpStatusCode"], 200)
        detail = json.loads(events[5]["taskSucceededEventDetails"]["output"])
        self.assertEqual(detail["JobName"], "align")
        self.assertEqual(detail["Container"]["ExitCode"], 0)
        scheduled = json.loads(events[2]["taskScheduledEventDetails"]["parameters"])
        self.assertEqual(scheduled["JobQueue"], "default")
        self.assertEqual(events[2]["taskScheduledEventDetails"]["resource"], "submitJob.sync")
        listed = self.sfn().list_executions(stateMachineArn=arn)["executions"]
        self.assertEqual([e["name"] for e in listed], ["NA12878"])
        self.assertEqual(listed[0]["status"], "SUCCEEDED")

    def test_failed_job_is_caught_with_the_job_as_cause(self):
        definition = {"StartAt": "Fail", "States": {
            "Fail": job_task("failing", "exit 3", end=False, extra={
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error",
                           "Next": "Recovered"}], "Next": "Recovered"}),
            "Recovered": {"Type": "Pass", "End": True}}}
        arn = self.machine("catch-job", definition)
        run = self.sfn().start_execution(stateMachineArn=arn)
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED", done)
        error = json.loads(done["output"])["error"]
        self.assertEqual(error["Error"], "States.TaskFailed")
        cause = json.loads(error["Cause"])
        self.assertEqual(cause["Status"], "FAILED")
        self.assertEqual(cause["Container"]["ExitCode"], 3)

    def test_uncaught_submit_error_fails_the_execution_with_batch_code(self):
        definition = {"StartAt": "Bad", "States": {"Bad": {
            "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
            "Parameters": {"JobName": "x", "JobQueue": "no-such-queue",
                           "JobDefinition": "helix-command"}, "End": True}}}
        arn = self.machine("submit-error", definition)
        run = self.sfn().start_execution(stateMachineArn=arn)
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "FAILED")
        self.assertEqual(done["error"], "Batch.ClientException")
        self.assertIn("no-such-queue", done["cause"])
        self.assertIn("(Service: AWSBatch; Status Code: 400; Error Code: ClientException",
                      done["cause"])

    def test_callback_token_reaches_the_job_and_send_task_success_answers(self):
        token_file = os.path.join(self.work, "token.txt")
        definition = {"StartAt": "Wait", "States": {"Wait": {
            "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.waitForTaskToken",
            "Parameters": {"JobName": "cb", "JobQueue": "default",
                           "JobDefinition": "helix-command",
                           "ContainerOverrides": {"Command": [
                               "sh", "-c", f'echo "$HELIX_TASK_TOKEN" > {token_file}']}},
            "HeartbeatSeconds": 60, "End": True}}}
        arn = self.machine("callback", definition)
        run = self.sfn().start_execution(stateMachineArn=arn)
        deadline = time.time() + 60
        while not (os.path.exists(token_file) and os.path.getsize(token_file) > 0):
            self.assertLess(time.time(), deadline, "the job never wrote its token")
            time.sleep(0.1)
        with open(token_file) as f:
            token = f.read().strip()
        sfn = self.sfn()
        sfn.send_task_heartbeat(taskToken=token)
        sfn.send_task_success(taskToken=token, output=json.dumps({"qc": "pass"}))
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED")
        self.assertEqual(json.loads(done["output"]), {"qc": "pass"})
        with self.assertRaises(sfn.exceptions.TaskDoesNotExist):
            sfn.send_task_success(taskToken=token, output="{}")
        with self.assertRaises(sfn.exceptions.InvalidToken):
            sfn.send_task_failure(taskToken="not-a-token")

    def test_nested_execution_sync2_returns_parsed_output(self):
        child = self.machine("child", {"StartAt": "Double", "States": {"Double": {
            "Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}}})
        parent = self.machine("parent", {"StartAt": "Run", "States": {"Run": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$.n"}},
            "OutputPath": "$.Output", "End": True}}})
        run = self.sfn().start_execution(stateMachineArn=parent, input='{"n": 21}')
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED", done)
        self.assertEqual(json.loads(done["output"]), {"twice": 42})
        children = self.sfn().list_executions(stateMachineArn=child)["executions"]
        self.assertEqual(len(children), 1)
        self.assertEqual(children[0]["status"], "SUCCEEDED")

    def test_stop_aborts_the_execution_and_terminates_its_job(self):
        arn = self.machine("stoppable", {"StartAt": "Long", "States": {
            "Long": job_task("long", "sleep 120")}})
        run = self.sfn().start_execution(stateMachineArn=arn)
        deadline = time.time() + 60
        job_id = None
        while job_id is None:
            self.assertLess(time.time(), deadline)
            for e in self.history(run["executionArn"]):
                if e["type"] == "TaskSubmitted":
                    job_id = json.loads(e["taskSubmittedEventDetails"]["output"])["JobId"]
            time.sleep(0.1)
        self.d.wait_status(job_id, ("RUNNING",))
        self.sfn().stop_execution(executionArn=run["executionArn"], error="User.Stop",
                                  cause="test")
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "ABORTED")
        job = self.d.wait(job_id, timeout=60)
        self.assertEqual(job["status"], "FAILED")
        types = [e["type"] for e in self.history(run["executionArn"])]
        self.assertEqual(types[-1], "ExecutionAborted")

    def test_map_reads_items_from_a_file_runs_a_job_each_and_writes_results(self):
        samples = os.path.join(self.work, "samples.json")
        with open(samples, "w") as f:
            json.dump([{"name": "s1"}, {"name": "s2"}, {"name": "s3"}], f)
        seen = os.path.join(self.work, "seen.txt")
        job = job_task("per-sample", f'echo "$SAMPLE" >> {seen}',
                       extra={"ResultSelector": {"Status.$": "$.Status"}})
        job["Parameters"]["ContainerOverrides"]["Environment"] = [
            {"Name": "SAMPLE", "Value.$": "$.name"}]
        definition = {"StartAt": "PerSample", "States": {"PerSample": {
            "Type": "Map", "MaxConcurrency": 2, "End": True,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                           "ReaderConfig": {"InputType": "JSON"},
                           "Parameters": {"Bucket": self.work, "Key": "samples.json"}},
            "ItemProcessor": {"StartAt": "Job", "States": {"Job": job}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": self.work, "Prefix": "out"}}}}}
        arn = self.machine("per-sample", definition)
        run = self.sfn().start_execution(stateMachineArn=arn, name="cohort")
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED", done)
        with open(seen) as f:
            self.assertEqual(sorted(f.read().split()), ["s1", "s2", "s3"])
        with open(os.path.join(self.work, "out", "cohort", "PerSample", "results.json")) as f:
            self.assertEqual(json.load(f), [{"Status": "SUCCEEDED"}] * 3)
        # A missing file fails the Map with States.ItemReaderFailed, naming it.
        definition["States"]["PerSample"]["ItemReader"]["Parameters"]["Key"] = "absent.json"
        missing = self.machine("per-sample-missing", definition)
        run = self.sfn().start_execution(stateMachineArn=missing)
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "FAILED")
        self.assertEqual(done["error"], "States.ItemReaderFailed")
        self.assertIn("absent.json", done["cause"])

    def test_test_state_runs_one_state(self):
        status, out = self.states_call("TestState", {
            "definition": json.dumps({"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, 2)"},
                                      "Next": "Later"}),
            "input": '{"a": 40}', "roleArn": "r", "inspectionLevel": "DEBUG"})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["status"], "SUCCEEDED")
        self.assertEqual(json.loads(out["output"]), {"sum": 42})
        self.assertEqual(out["nextState"], "Later")
        status, out = self.states_call("TestState", {"definition": "{not json", "roleArn": "r"})
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidDefinition")

    def states_call(self, operation, body):
        """A Step Functions call over the Unix socket, for operations newer
        than Debian's boto3 (TestState, RedriveExecution)."""
        from helixd import UnixHTTPConnection
        conn = UnixHTTPConnection(self.d.socket)
        conn.request("POST", "/", body=json.dumps(body),
                     headers={"X-Amz-Target": "AWSStepFunctions." + operation,
                              "Content-Type": "application/x-amz-json-1.0"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        return resp.status, data

    def test_redrive_reruns_only_what_failed(self):
        runs = os.path.join(self.work, "redrive-runs.txt")
        fixed = os.path.join(self.work, "redrive-fixed")
        job = job_task("item", f'echo "$I" >> {runs}; test "$I" != 2 || test -e {fixed}',
                       extra={"ResultSelector": {"Status.$": "$.Status"}})
        job["Parameters"]["ContainerOverrides"]["Environment"] = [
            {"Name": "I", "Value.$": "States.Format('{}', $)"}]
        arn = self.machine("redrivable", {"StartAt": "Items", "States": {"Items": {
            "Type": "Map", "MaxConcurrency": 1, "ItemsPath": "$.items", "End": True,
            "ItemProcessor": {"StartAt": "Job", "States": {"Job": job}}}}})
        run = self.sfn().start_execution(stateMachineArn=arn, name="cohort-r",
                                         input=json.dumps({"items": [0, 1, 2, 3]}))
        execution = run["executionArn"]
        done = self.wait_done(execution)
        self.assertEqual(done["status"], "FAILED", done)
        with open(runs) as f:
            self.assertEqual(f.read().split(), ["0", "1", "2"])  # 3 never started
        status, described = self.states_call("DescribeExecution", {"executionArn": execution})
        self.assertEqual(described["redriveStatus"], "REDRIVABLE", described)
        # Fix the cause, then redrive with the helix CLI (Debian's aws CLI
        # and boto3 predate RedriveExecution).
        open(fixed, "w").close()
        proc = subprocess.run([os.path.join(BIN, "helix"), "redrive", execution, "--follow"],
                              env={**os.environ, "HELIX_ENDPOINT": f"unix://{self.d.socket}"},
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCEEDED", proc.stdout)
        done = self.wait_done(execution)
        self.assertEqual(done["status"], "SUCCEEDED", done)
        self.assertEqual(json.loads(done["output"]), [{"Status": "SUCCEEDED"}] * 4)
        with open(runs) as f:
            # Items 0 and 1 kept their results; only 2 ran again, then 3.
            self.assertEqual(f.read().split(), ["0", "1", "2", "2", "3"])
        status, described = self.states_call("DescribeExecution", {"executionArn": execution})
        self.assertEqual(described["redriveCount"], 1)
        self.assertIn("redriveDate", described)
        self.assertEqual(described["redriveStatus"], "NOT_REDRIVABLE")
        events = self.history(execution)
        self.assertEqual([e["id"] for e in events], list(range(1, len(events) + 1)))
        redriven = [e for e in events if e["type"] == "ExecutionRedriven"]
        self.assertEqual(len(redriven), 1)
        self.assertEqual(events[-1]["type"], "ExecutionSucceeded")
        # A SUCCEEDED execution is not redriven, nor one that does not exist.
        status, refused = self.states_call("RedriveExecution", {"executionArn": execution})
        self.assertEqual((status, refused["__type"]), (400, "ExecutionNotRedrivable"))
        status, refused = self.states_call("RedriveExecution",
                                           {"executionArn": execution + "-ghost"})
        self.assertEqual((status, refused["__type"]), (400, "ExecutionDoesNotExist"))

    def test_activity_worker_long_polls_and_answers(self):
        import threading
        from botocore.config import Config
        key, secret = self.d.credentials()
        import boto3
        # A worker's client: GetActivityTask holds the request up to 60 s.
        worker = boto3.client("stepfunctions", endpoint_url=self.d.endpoint(),
                              region_name="us-east-1", aws_access_key_id=key,
                              aws_secret_access_key=secret,
                              config=Config(read_timeout=70, retries={"max_attempts": 1}))
        sfn = self.sfn()
        activity = sfn.create_activity(name="align-worker")["activityArn"]
        self.assertEqual(sfn.create_activity(name="align-worker")["activityArn"], activity)
        got = {}

        def poll():
            got["task"] = worker.get_activity_task(activityArn=activity, workerName="node-7")

        thread = threading.Thread(target=poll)
        thread.start()  # waiting before any task exists
        time.sleep(0.5)
        arn = self.machine("with-activity", {"StartAt": "Align", "States": {
            "Align": {"Type": "Task", "Resource": activity,
                      "Parameters": {"sample.$": "$.sample"}, "HeartbeatSeconds": 30,
                      "TimeoutSeconds": 120, "ResultPath": "$.aligned", "End": True}}})
        run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"sample": "S1"}))
        thread.join(timeout=90)
        self.assertFalse(thread.is_alive())
        task = got["task"]
        self.assertEqual(json.loads(task["input"]), {"sample": "S1"})
        worker.send_task_heartbeat(taskToken=task["taskToken"])
        worker.send_task_success(taskToken=task["taskToken"], output=json.dumps({"bam": "S1.bam"}))
        done = self.wait_done(run["executionArn"])
        self.assertEqual(done["status"], "SUCCEEDED", done)
        self.assertEqual(json.loads(done["output"]),
                         {"sample": "S1", "aligned": {"bam": "S1.bam"}})
        events = self.history(run["executionArn"])
        types = [e["type"] for e in events]
        self.assertEqual(types[2:5], ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"])
        self.assertEqual(events[2]["activityScheduledEventDetails"]["resource"], activity)
        self.assertEqual(events[3]["activityStartedEventDetails"]["workerName"], "node-7")
        names = [a["name"] for a in sfn.list_activities()["activities"]]
        self.assertIn("align-worker", names)
        sfn.delete_activity(activityArn=activity)
        with self.assertRaises(sfn.exceptions.ActivityDoesNotExist):
            sfn.describe_activity(activityArn=activity)

    def test_start_sync_execution_answers_with_the_outcome(self):
        import boto3
        from botocore.config import Config
        key, secret = self.d.credentials()
        # StartSyncExecution's endpoint is host-prefixed ("sync-"); a local
        # endpoint needs the prefix off (or AWS_DISABLE_HOST_PREFIX_INJECTION).
        sfn = boto3.client("stepfunctions", endpoint_url=self.d.endpoint(),
                           region_name="us-east-1", aws_access_key_id=key,
                           aws_secret_access_key=secret,
                           config=Config(inject_host_prefix=False))
        definition = {"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Sum"},
            "Sum": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"},
                    "Next": "Check"},
            "Check": {"Type": "Choice", "Default": "Done", "Choices": [
                {"Variable": "$.sum", "NumericGreaterThan": 100, "Next": "TooBig"}]},
            "TooBig": {"Type": "Fail", "Error": "Sum.TooBig", "Cause": "over 100"},
            "Done": {"Type": "Succeed"}}}
        express = sfn.create_state_machine(
            name="sync-sum", definition=json.dumps(definition), type="EXPRESS",
            roleArn="arn:aws:iam::123456789012:role/helix")["stateMachineArn"]
        out = sfn.start_sync_execution(stateMachineArn=express, input='{"a": 40, "b": 2}')
        self.assertEqual(out["status"], "SUCCEEDED", out)
        self.assertEqual(json.loads(out["output"]), {"sum": 42})
        self.assertGreaterEqual((out["stopDate"] - out["startDate"]).total_seconds(), 0.9)
        failed = sfn.start_sync_execution(stateMachineArn=express, input='{"a": 400, "b": 2}')
        self.assertEqual((failed["status"], failed["error"], failed["cause"]),
                         ("FAILED", "Sum.TooBig", "over 100"))
        standard = self.machine("not-express", definition)
        with self.assertRaises(sfn.exceptions.StateMachineTypeNotSupported):
            sfn.start_sync_execution(stateMachineArn=standard, input="{}")

    def test_start_refusals(self):
        sfn = self.sfn()
        arn = self.machine("refusals", {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 30, "End": True}}})
        first = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a":1}')
        again = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a":1}')
        self.assertEqual(first["executionArn"], again["executionArn"])  # idempotent
        with self.assertRaises(sfn.exceptions.ExecutionAlreadyExists):
            sfn.start_execution(stateMachineArn=arn, name="once", input='{"a":2}')
        with self.assertRaises(sfn.exceptions.InvalidExecutionInput):
            sfn.start_execution(stateMachineArn=arn, input="not json")
        with self.assertRaises(sfn.exceptions.StateMachineDoesNotExist):
            sfn.start_execution(stateMachineArn=arn + "-ghost")
        with self.assertRaises(sfn.exceptions.ExecutionDoesNotExist):
            sfn.describe_execution(executionArn=first["executionArn"] + "-ghost")
        sfn.stop_execution(executionArn=first["executionArn"])


class HelixRunTest(unittest.TestCase):
    """helix run / executions / history, on a running helixd and on the
    helixd that helix run starts itself when none answers."""

    DEFINITION = {"StartAt": "Job", "States": {
        "Job": job_task("greet", "echo hello", end=False,
                        extra={"ResultSelector": {"Status.$": "$.Status"}, "ResultPath": "$.job",
                               "Next": "Fan"}),
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "End": True,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                   "End": True}}}}}}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="helix-run-")
        os.chmod(self.dir, 0o755)
        self.file = os.path.join(self.dir, "greet.asl.json")
        with open(self.file, "w") as f:
            json.dump(self.DEFINITION, f)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def helix(self, *args, env_extra=None):
        env = dict(os.environ)
        env.pop("HELIX_ENDPOINT", None)
        env.update(env_extra or {})
        return subprocess.run([os.path.join(BIN, "helix"), *args], env=env, capture_output=True,
                              text=True, timeout=120)

    def test_run_follow_on_a_running_helixd(self):
        d = Helixd()
        try:
            env = {"HELIX_ENDPOINT": f"unix://{d.socket}"}
            items = list(range(20))
            proc = self.helix("run", self.file, "--input", json.dumps({"items": items}),
                              "--name", "first", "--follow", env_extra=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("started    Job", proc.stdout)
            self.assertIn("Fan: 20 of 20 items done", proc.stdout)
            self.assertNotIn("started    P", proc.stdout)  # iterations are summarised
            output = json.loads(proc.stdout[proc.stdout.index("SUCCEEDED\n") + 10:])
            self.assertEqual(output["mapped"], items)
            self.assertEqual(output["job"], {"Status": "SUCCEEDED"})
            # A failing input: the error goes to stderr and the exit code is 1.
            bad = self.helix("run", self.file, "--input", '{"items": 3}', "--follow",
                             env_extra=env)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("execution FAILED: States.", bad.stderr)
            listed = json.loads(self.helix("executions", "--machine", "greet", "--output", "json",
                                           env_extra=env).stdout)["executions"]
            self.assertEqual(sorted(e["status"] for e in listed), ["FAILED", "SUCCEEDED"])
            arn = [e for e in listed if e["name"] == "first"][0]["executionArn"]
            history = self.helix("history", arn, env_extra=env)
            self.assertEqual(history.returncode, 0, history.stderr)
            self.assertIn("ExecutionSucceeded", history.stdout)
            self.assertIn("TaskSubmitted", history.stdout)
        finally:
            d.close()

    def test_run_starts_its_own_helixd_when_none_answers(self):
        state = os.path.join(self.dir, "state")
        env = {"HELIX_STATE_DIR": state}
        proc = self.helix("run", self.file, "--input", '{"items": [1, 2]}', "--follow",
                          env_extra=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("SUCCEEDED", proc.stdout)
        left = subprocess.run(["pgrep", "-f", f"helixd --state-dir {state} "],
                              capture_output=True, text=True)
        self.assertEqual(left.stdout, "", "the helixd helix run started is still running")
        # Its store kept the execution: a second command sees it.
        listed = self.helix("executions", env_extra=env)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("SUCCEEDED", listed.stdout)


class ExecutionCrashTest(unittest.TestCase):
    def test_kill_9_resumes_the_execution_and_submits_no_job_twice(self):
        d = Helixd()
        try:
            import boto3
            ran = os.path.join(d.state_dir, "ran.txt")
            open(ran, "w").close()
            os.chmod(ran, 0o666)
            step = ('echo "$AWS_BATCH_JOB_ID {name}" >> ' + ran + '; sleep {sleep}')
            definition = {"StartAt": "One", "States": {
                "One": job_task("one", step.format(name="one", sleep=3), end=False,
                                extra={"Next": "Wait", "ResultPath": None}),
                "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Two"},
                "Two": job_task("two", step.format(name="two", sleep=0),
                                extra={"ResultPath": None})}}

            def client():
                key, secret = d.credentials()
                return boto3.client("stepfunctions", endpoint_url=d.endpoint(),
                                    region_name="us-east-1", aws_access_key_id=key,
                                    aws_secret_access_key=secret)

            arn = client().create_state_machine(name="crash", definition=json.dumps(definition),
                                                roleArn="r")["stateMachineArn"]
            run = client().start_execution(stateMachineArn=arn, input='{"k": 1}')
            deadline = time.time() + 60
            while os.path.getsize(ran) == 0:  # job one is running
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            d.kill9()
            d.start()
            deadline = time.time() + 120
            while True:
                desc = client().describe_execution(executionArn=run["executionArn"])
                if desc["status"] != "RUNNING":
                    break
                self.assertLess(time.time(), deadline, "the execution never finished")
                time.sleep(0.1)
            self.assertEqual(desc["status"], "SUCCEEDED", desc)
            self.assertEqual(json.loads(desc["output"]), {"k": 1})
            with open(ran) as f:
                lines = f.read().split("\n")
            names = sorted(line.split()[1] for line in lines if line)
            self.assertEqual(names, ["one", "two"])  # each job ran exactly once
            events = [e for page in client().get_paginator("get_execution_history").paginate(
                executionArn=run["executionArn"]) for e in page["events"]]
            self.assertEqual([e["id"] for e in events], list(range(1, len(events) + 1)))
            self.assertEqual([e["type"] for e in events].count("TaskSubmitted"), 2)
            jobs = d.aws("list-jobs", "--job-queue", "default", "--job-status", "SUCCEEDED")
            self.assertEqual(sorted(j["jobName"] for j in jobs["jobSummaryList"]), ["one", "two"])
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
