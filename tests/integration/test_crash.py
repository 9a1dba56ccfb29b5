"""kill -9 of helixd in the middle of a 500-job run: after a restart on the
same store every job ends exactly once (each job appends its id to a file;
the file must hold every id once)."""

import collections
import os
import time
import unittest

from helixd import Helixd


def count_lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


class CrashTest(unittest.TestCase):
    def test_kill_9_loses_no_job_and_runs_none_twice(self):
        d = Helixd()
        try:
            out = os.path.join(d.state_dir, "ran.txt")
            # Every job waits for the gate, opened once all 500 are in: on a
            # loaded machine submitting can take as long as running, and
            # the kill must come while most jobs are still to run.
            gate = os.path.join(d.state_dir, "gate")
            script = (f'while [ ! -e {gate} ]; do sleep 0.02; done; '
                      f'echo "$AWS_BATCH_JOB_ID" >> {out}')
            ids = [d.submit(["sh", "-c", script], name=f"crash{i}") for i in range(500)]
            open(gate, "w").close()
            deadline = time.time() + 60
            while time.time() < deadline:  # kill while jobs are running
                if os.path.exists(out) and count_lines(out) >= 100:
                    break
                time.sleep(0.01)
            d.kill9()
            lines_at_kill = count_lines(out)
            self.assertLess(lines_at_kill, 500, "the run ended before the kill; make it longer")
            d.start()
            for job_id in ids:
                job = d.wait(job_id, timeout=300)
                self.assertEqual(job["status"], "SUCCEEDED", job)
            with open(out) as f:
                counts = collections.Counter(f.read().split())
            self.assertEqual(set(counts), set(ids))
            twice = [i for i, n in counts.items() if n != 1]
            self.assertEqual(twice, [], "jobs that ran more than once")
            self.assertEqual(len(counts), 500)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
