"""A real Orthanc (Debian's orthanc package) for tests: its own folder,
free loopback ports, started and stopped by PID by the test that uses it
(tests/dicom/test_pacs.py, tests/integration/test_dicom_pacs_pipeline.py)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

ORTHANC = "/usr/sbin/Orthanc"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    """One Orthanc in its own folder, with only what the test needs: no
    plugins (Debian's would load from /usr/share), no remote access, called
    AE title checked, C-FIND/GET/MOVE allowed to unknown AEs, and our AE
    HELIX known as a C-MOVE destination."""

    def __init__(self, root, aet, move_port, **settings):
        os.makedirs(root)
        self.aet, self.http_port, self.dicom_port = aet, free_port(), free_port()
        config = {
            "Name": aet, "DicomAet": aet,
            "StorageDirectory": os.path.join(root, "db"),
            "IndexDirectory": os.path.join(root, "db"),
            "HttpPort": self.http_port, "DicomPort": self.dicom_port,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
            "Plugins": [], "SaveJobs": False,
            "DicomCheckCalledAet": True, "DicomCheckModalityHost": False,
            "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True,
            "DicomModalities": {"helix": ["HELIX", "127.0.0.1", move_port]},
            **settings,
        }
        path = os.path.join(root, "orthanc.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.log = os.path.join(root, "orthanc.log")
        # Without TCP_NODELAY each DIMSE message waits ~92 ms on loopback.
        env = dict(os.environ, TCP_NODELAY="1")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([ORTHANC, path], stdout=log, stderr=subprocess.STDOUT,
                                            env=env, cwd=root)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.rest("/system")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Orthanc {aet} did not start: {self.log_tail()}")
                time.sleep(0.05)

    def rest(self, path, data=None, raw=False):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data)
        if data is not None:
            request.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read() if raw else json.load(response)

    def sop_uids(self):
        return {i["MainDicomTags"]["SOPInstanceUID"] for i in self.rest("/instances?expand")}

    def log_tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-2000:]

    def terminate(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)

    def stop(self):
        self.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def stop_all(servers):
    """Orthanc takes about 3 s to shut down: both at once."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.stop()
