"""helixd under mpirun with three emulated nodes of different shapes on this
machine: the scheduler spreads jobs over them, each job runs bound within
its node's PUs (mapped onto this machine's), and a node whose agent is
SIGKILLed is declared down; its attempts are retried on the other nodes
and every job's side effect happens exactly once."""

import os
import time
import unittest

import test_containers
from helixd import MpiCluster

NODES = [
    ("n1", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
    ("n2", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
    ("n3", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
]


class MpiClusterTest(unittest.TestCase):
    def setUp(self):
        self.d = MpiCluster(NODES)

    def tearDown(self):
        self.d.close()

    def node_of(self, job):
        return job["helix"]["node"]

    def test_jobs_spread_over_the_nodes(self):
        ids = [self.d.submit(["sh", "-c", "sleep 1"], containerOverrides={
            "command": ["sh", "-c", "sleep 1"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                     {"type": "MEMORY", "value": "64"}]}) for _ in range(6)]
        jobs = [self.d.wait(i) for i in ids]
        self.assertEqual([j["status"] for j in jobs], ["SUCCEEDED"] * 6)
        # 6 one-vCPU jobs on 3 nodes of 2 vCPUs: all of them run at once,
        # so every node gets exactly two.
        nodes = sorted(self.node_of(j) for j in jobs)
        self.assertEqual(nodes, ["n1", "n1", "n2", "n2", "n3", "n3"])

    def test_a_job_larger_than_every_node_fails_with_each_nodes_numbers(self):
        job = self.d.wait(self.d.submit(["true"], containerOverrides={
            "command": ["true"], "resourceRequirements": [{"type": "VCPU", "value": "3"}]}))
        self.assertEqual(job["status"], "FAILED")
        self.assertEqual(job["statusReason"].count("needs 3 vCPUs"), 3, job["statusReason"])

    def test_a_killed_node_s_jobs_are_retried_elsewhere_and_run_once(self):
        out = os.path.join(self.d.state_dir, "effects")
        script = f"sleep 2; echo $AWS_BATCH_JOB_ID >> {out}"
        ids = [self.d.submit(["sh", "-c", script], containerOverrides={
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}]},
            retryStrategy={"attempts": 3}) for _ in range(6)]
        deadline = time.time() + 30
        while time.time() < deadline:
            running = [self.d.describe(i) for i in ids]
            if all(j["status"] == "RUNNING" for j in running):
                break
            time.sleep(0.1)
        on_n3 = [j["jobId"] for j in running if self.node_of(j) == "n3"]
        self.assertEqual(len(on_n3), 2)
        self.d.kill_node("n3")
        jobs = {i: self.d.wait(i, timeout=60) for i in ids}
        self.assertEqual([j["status"] for j in jobs.values()], ["SUCCEEDED"] * 6)
        for job_id in on_n3:
            attempts = jobs[job_id]["attempts"]
            self.assertEqual(len(attempts), 2)
            self.assertIn("n3", attempts[0]["statusReason"] + attempts[0]["container"].get("reason", ""))
            self.assertNotEqual(self.node_of(jobs[job_id]), "n3",
                                [(a.get("statusReason"), a["container"].get("reason"))
                                 for a in attempts])
        with open(out) as f:
            lines = sorted(f.read().split())
        self.assertEqual(lines, sorted(ids))  # each job's effect exactly once


class ContainerOnClusterTest(unittest.TestCase):
    @unittest.skipUnless(test_containers.HAVE_TOOLS and os.geteuid() == 0,
                         "container jobs need root, umoci, crun/runc and busybox-static")
    def test_a_container_job_on_an_emulated_node_runs_bound_to_its_cpuset(self):
        d = MpiCluster(NODES)
        try:
            layout = os.path.join(d.state_dir, "image")
            test_containers.build_image(layout)
            d.batch("RegisterJobDefinition", {
                "jobDefinitionName": "boxed", "type": "container",
                "containerProperties": {
                    "image": layout + ":1.0",
                    "command": ["grep", "Cpus_allowed_list", "/proc/self/status"],
                    "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                             {"type": "MEMORY", "value": "64"}]}})
            job = d.wait(d.submit(None, definition="boxed"), timeout=120)
            log = d.log(job["jobId"])
            self.assertEqual(job["status"], "SUCCEEDED", log)
            self.assertIn(job["helix"]["node"], ("n1", "n2", "n3"))
            # The emulated node's PU mapped onto this machine's (i mod count).
            real = sorted(os.sched_getaffinity(0))
            expected = [real[pu % len(real)] for pu in job["helix"]["cpus"]]
            self.assertEqual(log.split()[-1], ",".join(map(str, expected)))
        finally:
            d.close()


class BadAgentTest(unittest.TestCase):
    def test_an_agent_whose_topology_cannot_be_read_refuses_to_join_with_the_reason(self):
        with self.assertRaises(RuntimeError) as e:
            MpiCluster([("n1", NODES[0][1]), ("broken", "pack:2 [nonsense]")])
        self.assertIn("rank 2 refused to join", str(e.exception))
        self.assertIn("pack:2 [nonsense]", str(e.exception))


class BestFitTest(unittest.TestCase):
    """Nodes are chosen best fit: a 1-vCPU job goes to the small node even
    though the big one is listed first, so a 4-vCPU job submitted right
    after still finds the big node whole and both run at once (first fit
    would make the large job wait for the small one)."""

    def test_a_small_job_leaves_the_big_node_to_a_big_job(self):
        d = MpiCluster([("big", "pack:1 [numa(memory=2GiB)] core:4 pu:1"),
                        ("small", "pack:1 [numa(memory=2GiB)] core:2 pu:1")])
        self.addCleanup(d.close)

        def job(vcpus):
            return d.submit(["sh", "-c", "sleep 3"], containerOverrides={
                "command": ["sh", "-c", "sleep 3"],
                "resourceRequirements": [{"type": "VCPU", "value": str(vcpus)},
                                         {"type": "MEMORY", "value": "64"}]})

        small = d.wait_status(job(1), ["RUNNING"], timeout=30)
        large = d.wait_status(job(4), ["RUNNING"], timeout=30)
        self.assertEqual(small["helix"]["node"], "small")
        self.assertEqual(large["helix"]["node"], "big")
        self.assertEqual(d.describe(small["jobId"])["status"], "RUNNING")  # both at once
        for job in (small, large):  # nothing left running when the cluster stops
            self.assertEqual(d.wait(job["jobId"])["status"], "SUCCEEDED")


class GpuLocalityTest(unittest.TestCase):
    """A node emulated from an hwloc export with one GPU on each of its two
    NUMA nodes (tests/data/topologies/gpu_node.xml): each 1-GPU job runs
    on the NUMA node its GPU hangs from, so two of them land on different
    NUMA nodes, and `helix nodes` shows where each GPU is."""

    def test_gpu_jobs_run_next_to_their_gpu(self):
        xml = os.path.join(os.path.dirname(__file__), "../data/topologies/gpu_node.xml")
        d = MpiCluster([("g1", os.path.abspath(xml))])
        self.addCleanup(d.close)
        [node] = d.request("GET", "/helix/v1/nodes")["nodes"]
        self.assertEqual([n["gpus"] for n in node["numaNodes"]], [[0], [1]])
        script = "echo $NVIDIA_VISIBLE_DEVICES $CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER; sleep 2"
        ids = [d.submit(["sh", "-c", script], containerOverrides={
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                     {"type": "MEMORY", "value": "64"},
                                     {"type": "GPU", "value": "1"}]}) for _ in range(2)]
        jobs = [d.wait(i) for i in ids]
        self.assertEqual([j["status"] for j in jobs], ["SUCCEEDED"] * 2)
        self.assertEqual(sorted(j["helix"]["numaNodes"] for j in jobs), [[0], [1]])
        # Each job is told its GPU, the one local to its NUMA node.
        for job in jobs:
            [gpu] = job["helix"]["gpus"]
            self.assertEqual(job["helix"]["numaNodes"], [gpu])  # GPU g sits on NUMA g here
            self.assertEqual(d.log(job["jobId"]).split(), [str(gpu), str(gpu), "PCI_BUS_ID"])


if __name__ == "__main__":
    unittest.main()
