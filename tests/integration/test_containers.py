"""Container jobs on the real daemon: the test builds a small OCI image
itself (busybox-static in an empty image, with umoci, no network), runs a
job in it with crun, and checks that the command ran inside the image,
bound to its placement's PUs, with the job's environment and a host
mount; an image that does not exist fails the job with the reason."""

import os
import shutil
import subprocess
import tempfile
import unittest

from helixd import Helixd

HAVE_TOOLS = all(shutil.which(t) for t in ("umoci", "crun")) and os.path.exists("/bin/busybox")


def build_image(layout):
    subprocess.run(["umoci", "init", "--layout", layout], check=True)
    subprocess.run(["umoci", "new", "--image", layout + ":1.0"], check=True)
    bundle = layout + ".bundle"
    subprocess.run(["umoci", "unpack", "--image", layout + ":1.0", bundle], check=True)
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for tool in ("sh", "cat", "ls", "echo", "grep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", tool))
    with open(os.path.join(rootfs, "marker"), "w") as f:
        f.write("inside the image\n")
    subprocess.run(["umoci", "repack", "--image", layout + ":1.0", bundle], check=True)
    subprocess.run(["umoci", "config", "--image", layout + ":1.0", "--config.env",
                    "PATH=/bin"], check=True)
    shutil.rmtree(bundle)


@unittest.skipUnless(HAVE_TOOLS and os.geteuid() == 0,
                     "container jobs need root, umoci, crun and busybox-static")
class ContainerJobTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="helix-oci-")
        cls.layout = os.path.join(cls.tmp, "image")
        build_image(cls.layout)
        cls.data = os.path.join(cls.tmp, "data")
        os.makedirs(cls.data)
        with open(os.path.join(cls.data, "input.txt"), "w") as f:
            f.write("from the host\n")
        cls.d = Helixd()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def register(self, image):
        self.d.batch("RegisterJobDefinition", {
            "jobDefinitionName": "boxed", "type": "container",
            "containerProperties": {
                "image": image,
                "command": ["sh", "-c", "cat /marker /data/input.txt; echo $GREETING; "
                                        "grep Cpus_allowed_list /proc/self/status; ls /usr 2>&1; "
                                        "exit 3"],
                "environment": [{"name": "GREETING", "value": "hello"}],
                "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                         {"type": "MEMORY", "value": "64"}],
                "volumes": [{"name": "data", "host": {"sourcePath": self.data}}],
                "mountPoints": [{"sourceVolume": "data", "containerPath": "/data",
                                 "readOnly": True}]}})

    def test_job_runs_inside_its_image_bound_and_with_its_mount(self):
        self.register(self.layout + ":1.0")
        job = self.d.wait(self.d.submit(None, definition="boxed"), timeout=120)
        log = self.d.log(job["jobId"])
        self.assertEqual(job["status"], "FAILED", log)
        self.assertEqual(job["container"]["exitCode"], 3, log)  # the container's own status
        self.assertIn("inside the image", log)
        self.assertIn("from the host", log)
        self.assertIn("hello", log)
        # The host's /usr is not visible: the root is the image's.
        self.assertIn("No such file or directory", log)
        cpus = [l for l in log.splitlines() if l.startswith("Cpus_allowed_list")]
        self.assertEqual(cpus[0].split()[-1], ",".join(map(str, job["helix"]["cpus"])))

    def test_an_image_that_does_not_exist_fails_the_job_with_the_reason(self):
        self.register(self.layout + ":9.9")
        job = self.d.wait(self.d.submit(None, definition="boxed"))
        self.assertEqual(job["status"], "FAILED")
        reason = job["attempts"][-1]["container"]["reason"]
        self.assertIn("CannotPullContainerError", reason)
        self.assertIn('no tag "9.9"', reason)


if __name__ == "__main__":
    unittest.main()
