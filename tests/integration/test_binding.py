"""Binding checked from inside the jobs on the real daemon: each job reads
its own /proc/self/status, and its Cpus_allowed_list must be exactly the
PUs its placement gave it (describe's helix.cpus), with jobs running at the
same time on disjoint PUs. A job over its memory limit is killed and says
so (cgroup v1, as root)."""

import os
import subprocess
import time
import unittest

from helixd import BIN, ApiError, Helixd


def cpu_list(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def status_field(log, name):
    for line in log.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


class BindingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def submit(self, script, vcpus, memory=64):
        return self.d.submit(["sh", "-c", script], containerOverrides={
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": str(vcpus)},
                                     {"type": "MEMORY", "value": str(memory)}]})

    def test_each_job_runs_on_exactly_the_pus_it_was_given(self):
        ncpu = len(os.sched_getaffinity(0))
        script = "sleep 0.5; cat /proc/self/status"
        ids = [self.submit(script, 1) for _ in range(ncpu)]
        jobs = [self.d.wait(i) for i in ids]
        seen = []
        for job in jobs:
            self.assertEqual(job["status"], "SUCCEEDED")
            given = job["helix"]["cpus"]
            self.assertEqual(len(given), 1)
            log = self.d.log(job["jobId"])
            inside = cpu_list(status_field(log, "Cpus_allowed_list"))
            self.assertEqual(inside, given)
            # Memory bound to the placement's NUMA nodes (cpuset.mems and
            # membind), the one holding its PU.
            self.assertEqual(len(job["helix"]["numaNodes"]), 1)
            self.assertEqual(cpu_list(status_field(log, "Mems_allowed_list")),
                             job["helix"]["numaNodes"])
            seen += given
        # All ran at once (one per PU), so no PU was given twice.
        self.assertEqual(sorted(seen), sorted(os.sched_getaffinity(0)))

    def test_a_job_of_every_pu_gets_them_all(self):
        ncpu = len(os.sched_getaffinity(0))
        job = self.d.wait(self.submit("cat /proc/self/status", ncpu))
        inside = cpu_list(status_field(self.d.log(job["jobId"]), "Cpus_allowed_list"))
        self.assertEqual(inside, sorted(os.sched_getaffinity(0)))
        self.assertEqual(job["helix"]["cpus"], inside)

    def test_a_waiting_job_says_what_each_node_lacks(self):
        ncpu = len(os.sched_getaffinity(0))
        blocker = self.submit("sleep 3", ncpu)
        self.d.wait_status(blocker, ["RUNNING"])
        waiting = self.submit("true", 1)
        job = self.d.wait_status(waiting, ["RUNNABLE"])
        for _ in range(50):
            job = self.d.describe(waiting)
            if job.get("statusReason"):
                break
            time.sleep(0.05)
        self.assertRegex(job["statusReason"],
                         rf"^CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - \S+: needs 1 vCPUs, 0 free of {ncpu}$")
        self.assertEqual(self.d.wait(waiting)["status"], "SUCCEEDED")

    def test_helix_nodes_shows_which_job_holds_which_pu(self):
        job_id = self.submit("sleep 2", 1)
        self.d.wait_status(job_id, ["RUNNING"])
        job = self.d.describe(job_id)
        view = self.d.request("GET", "/helix/v1/nodes")
        holders = {p["pu"]: p.get("job") for n in view["nodes"] for numa in n["numaNodes"]
                   for p in numa["pus"]}
        self.assertEqual(holders[job["helix"]["cpus"][0]], job_id)
        text = subprocess.run([os.path.join(BIN, "helix"), "nodes"], capture_output=True, text=True,
                              env=dict(os.environ, HELIX_ENDPOINT="unix://" + self.d.socket)).stdout
        self.assertIn(f"PU {job['helix']['cpus'][0]} {job_id[:8]}", text)
        self.d.wait(job_id)

    def test_a_fair_share_queue_interleaves_shares_where_fifo_would_not(self):
        ncpu = len(os.sched_getaffinity(0))
        self.d.batch("CreateSchedulingPolicy", {"name": "fair", "fairsharePolicy": {
            "shareDecaySeconds": 600,
            "shareDistribution": [{"shareIdentifier": "A", "weightFactor": 1.0},
                                  {"shareIdentifier": "B", "weightFactor": 0.5}]}})
        self.d.batch("CreateJobQueue", {"jobQueueName": "shared", "priority": 1,
                                        "schedulingPolicyArn": "fair",
                                        "computeEnvironmentOrder": [
                                            {"order": 1, "computeEnvironment": "local"}]})
        blocker = self.submit("sleep 1.5", ncpu)
        self.d.wait_status(blocker, ["RUNNING"])
        ids = []
        for share in ["A"] * 3 + ["B"] * 3:  # all of A submitted before any of B
            ids.append(self.d.submit(["sleep", "0.3"], queue="shared", shareIdentifier=share,
                                     containerOverrides={
                                         "command": ["sleep", "0.3"],
                                         "resourceRequirements": [{"type": "VCPU", "value": "1"}]}))
        jobs = [self.d.wait(i) for i in ids]
        first = min(j["helix"]["startedAtMicros"] for j in jobs)
        started_first = sorted(j["shareIdentifier"] for j in jobs
                               if j["helix"]["startedAtMicros"] - first < 100_000)
        # FIFO would start A's jobs first; fair share gives B (lower weight
        # factor, more share) a slot in the same pass.
        self.assertIn("B", started_first)
        self.assertIn("A", started_first)

    def test_compute_reservation_holds_vcpus_back_until_another_share_arrives(self):
        ncpu = len(os.sched_getaffinity(0))
        if ncpu < 2:
            self.skipTest("needs 2 PUs")
        self.d.batch("CreateSchedulingPolicy", {"name": "reserving", "fairsharePolicy": {
            "shareDecaySeconds": 600, "computeReservation": 50}})
        self.d.batch("CreateJobQueue", {"jobQueueName": "reserving", "priority": 1,
                                        "schedulingPolicyArn": "reserving",
                                        "computeEnvironmentOrder": [
                                            {"order": 1, "computeEnvironment": "local"}]})

        def one_vcpu(share, seconds):
            command = ["sleep", str(seconds)]
            return self.d.submit(command, queue="reserving", shareIdentifier=share,
                                 containerOverrides={"command": command, "resourceRequirements": [
                                     {"type": "VCPU", "value": "1"}]})

        # One active share: 50% of the node's vCPUs are held back for others.
        cap = ncpu - ncpu // 2
        running = [one_vcpu("A", 3) for _ in range(cap)]
        extra = one_vcpu("A", 0)
        for job_id in running:
            self.d.wait_status(job_id, ["RUNNING"])
        waiting = self.d.describe(extra)
        for _ in range(50):
            if "computeReservation" in waiting.get("statusReason", ""):
                break
            time.sleep(0.05)
            waiting = self.d.describe(extra)
        self.assertEqual(waiting["status"], "RUNNABLE")
        self.assertIn(f"computeReservation 50 holds back {ncpu // 2} of {ncpu} vCPUs",
                      waiting["statusReason"])
        # A second share becomes active: only 25% is held back now, so B
        # starts beside A's jobs instead of after them.
        b = one_vcpu("B", 0)
        done = {i: self.d.wait(i) for i in running + [extra, b]}
        self.assertTrue(all(j["status"] == "SUCCEEDED" for j in done.values()))
        first_end = min(done[i]["stoppedAt"] for i in running)
        self.assertLess(done[b]["startedAt"], first_end)

    def test_a_fair_share_queue_takes_at_most_500_active_shares(self):
        self.d.batch("CreateComputeEnvironment", {"computeEnvironmentName": "parked",
                                                  "type": "UNMANAGED", "state": "DISABLED"})
        self.d.batch("CreateSchedulingPolicy", {"name": "crowded", "fairsharePolicy": {
            "shareDecaySeconds": 600}})
        self.d.batch("CreateJobQueue", {"jobQueueName": "crowded", "priority": 1,
                                        "schedulingPolicyArn": "crowded",
                                        "computeEnvironmentOrder": [
                                            {"order": 1, "computeEnvironment": "parked"}]})
        # The jobs stay RUNNABLE (their only compute environment is
        # disabled), so every share stays active.
        ids = [self.d.submit(["true"], queue="crowded", shareIdentifier=f"s{k}")
               for k in range(500)]
        with self.assertRaises(ApiError) as refused:
            self.d.submit(["true"], queue="crowded", shareIdentifier="s500")
        self.assertEqual(refused.exception.status, 400)
        self.assertIn("shareIdentifier", refused.exception.message)
        self.assertIn("500 active share identifiers", refused.exception.message)
        ids.append(self.d.submit(["true"], queue="crowded", shareIdentifier="s0"))  # not new
        for job_id in ids:
            self.d.batch("CancelJob", {"jobId": job_id, "reason": "test done"})
        self.assertEqual(self.d.wait(ids[0])["status"], "FAILED")
        # Once their jobs have ended the shares are inactive: a new one is taken.
        late = self.d.submit(["true"], queue="crowded", shareIdentifier="s500")
        self.d.batch("CancelJob", {"jobId": late, "reason": "test done"})

    def test_easy_backfill_keeps_the_head_job_s_reservation(self):
        ncpu = len(os.sched_getaffinity(0))
        if ncpu < 2:
            self.skipTest("needs 2 PUs")
        # R holds 1 PU for ~2 s (timeout 120 s: expected end in 120 s). H
        # needs every PU: blocked, it reserves the node from R's expected
        # end. C (1 PU, no timeout: it could run forever) fits now but would
        # delay H, so it must wait; D (1 PU, timeout 60 s) ends by the shadow
        # and may backfill now.
        r = self.d.submit(["sleep", "2"], timeout={"attemptDurationSeconds": 120},
                          containerOverrides={"command": ["sleep", "2"],
                                              "resourceRequirements": [{"type": "VCPU", "value": "1"}]})
        self.d.wait_status(r, ["RUNNING"])
        h = self.submit("true", ncpu)
        c = self.submit("true", 1)
        job_c = self.d.wait_status(c, ["RUNNABLE"])
        for _ in range(50):
            job_c = self.d.describe(c)
            if "EASY" in job_c.get("statusReason", ""):
                break
            time.sleep(0.05)
        self.assertIn(f"would delay job {h}", job_c.get("statusReason", ""))
        d = self.d.submit(["true"], timeout={"attemptDurationSeconds": 60}, containerOverrides={
            "command": ["true"], "resourceRequirements": [{"type": "VCPU", "value": "1"}]})
        done = {i: self.d.wait(i) for i in (r, h, c, d)}
        self.assertTrue(all(j["status"] == "SUCCEEDED" for j in done.values()))
        self.assertGreaterEqual(done[c]["helix"]["startedAtMicros"],
                                done[h]["helix"]["startedAtMicros"])
        self.assertLess(done[d]["helix"]["startedAtMicros"], done[h]["helix"]["startedAtMicros"])

    @unittest.skipUnless(os.geteuid() == 0 and os.path.isdir("/sys/fs/cgroup/memory"),
                         "memory limits need root and cgroup v1")
    def test_a_job_over_its_memory_is_killed_and_told_so(self):
        job = self.d.wait(self.submit("exec tail /dev/zero", 1, memory=32))
        self.assertEqual(job["status"], "FAILED")
        self.assertEqual(job["attempts"][-1]["container"]["reason"],
                         "OutOfMemoryError: Container killed due to memory usage")
        self.assertEqual(job["attempts"][-1]["container"]["exitCode"], 137)


    @unittest.skipUnless(os.geteuid() == 0 and os.path.isdir("/sys/fs/cgroup/memory"),
                         "memory limits need root and cgroup v1")
    def test_a_memory_kill_is_retried_with_more_memory(self):
        # tail -c keeps the last 48 MiB: over 32 MiB, within 64 MiB.
        script = "head -c 48m /dev/zero | tail -c 48m > /dev/null"
        job_id = self.d.submit(["sh", "-c", script], containerOverrides={
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                     {"type": "MEMORY", "value": "32"}]},
            retryStrategy={"attempts": 3, "evaluateOnExit": [
                {"onReason": "OutOfMemoryError*", "action": "RETRY", "memoryMultiplier": 2},
                {"onReason": "*", "action": "EXIT"}]})
        job = self.d.wait(job_id)
        self.assertEqual(job["status"], "SUCCEEDED", job)
        self.assertEqual(len(job["attempts"]), 2, job["attempts"])
        self.assertTrue(job["attempts"][0]["container"]["reason"].startswith("OutOfMemoryError"))
        memory = [r for r in job["container"]["resourceRequirements"] if r["type"] == "MEMORY"]
        self.assertEqual(memory, [{"type": "MEMORY", "value": "64"}])


if __name__ == "__main__":
    unittest.main()
