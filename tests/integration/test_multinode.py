"""A multi-node parallel job of 3 nodes on 3 emulated nodes (helixd under
mpirun): the gang is placed whole, mpirun starts one rank per node bound
by a rankfile to the PUs its node gave it, and every rank checks its index,
the node count, its binding and an allreduce."""

import json
import os
import unittest

from helixd import BIN, MpiCluster

NODES = [
    ("n1", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
    ("n2", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
    ("n3", "pack:1 [numa(memory=2GiB)] core:2 pu:1"),
]


def definition(num_nodes, vcpus=1):
    return {
        "jobDefinitionName": "mnp", "type": "multinode",
        "nodeProperties": {
            "numNodes": num_nodes, "mainNode": 0,
            "nodeRangeProperties": [{"targetNodes": "0:", "container": {
                "command": [os.path.join(BIN, "mnp_rank_check")],
                "resourceRequirements": [{"type": "VCPU", "value": str(vcpus)},
                                         {"type": "MEMORY", "value": "128"}]}}]}}


class MultiNodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = MpiCluster(NODES)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def test_three_node_job_passes_its_rank_checks(self):
        self.d.batch("RegisterJobDefinition", definition(3))
        job = self.d.wait(self.d.submit(None, definition="mnp"), timeout=120)
        log = self.d.log(job["jobId"])
        self.assertEqual(job["status"], "SUCCEEDED", log + json.dumps(job))
        self.assertEqual(job["nodeProperties"]["numNodes"], 3)
        nodes = job["helix"]["nodes"]
        self.assertEqual(sorted(nodes), ["n1", "n2", "n3"])  # one rank per node
        lines = sorted(l for l in log.splitlines() if l.startswith("rank "))
        self.assertEqual(len(lines), 3, log)
        for r, line in enumerate(lines):
            f = line.split()
            fields = dict(zip(f[0::2], f[1::2]))
            self.assertEqual(fields["rank"], str(r))
            self.assertEqual(fields["index"], str(r))  # AWS_BATCH_JOB_NODE_INDEX
            self.assertEqual(fields["size"], "3")
            self.assertEqual(fields["nodes"], "3")
            self.assertEqual(fields["main"], "0")
            self.assertEqual(fields["sum"], "3")  # 0 + 1 + 2
            # Bound to exactly one PU of this machine (the emulated node's
            # PU mapped onto a real one).
            self.assertRegex(fields["cpus"], r"^\d+$")

    def test_a_gang_larger_than_the_cluster_is_refused_with_the_reason(self):
        self.d.batch("RegisterJobDefinition", definition(4))
        job = self.d.wait(self.d.submit(None, definition="mnp"))
        self.assertEqual(job["status"], "FAILED")
        self.assertIn("needs 4 nodes, 3 are up", job["statusReason"])

    def test_bad_node_ranges_are_refused_whole(self):
        bad = definition(3)
        bad["nodeProperties"]["mainNode"] = 3
        bad["nodeProperties"]["nodeRangeProperties"][0]["targetNodes"] = "1:2"
        from helixd import ApiError
        with self.assertRaises(ApiError) as e:
            self.d.batch("RegisterJobDefinition", bad)
        self.assertIn("nodeProperties.mainNode", e.exception.message)
        self.assertIn("node 0 is in no range", e.exception.message)


if __name__ == "__main__":
    unittest.main()
