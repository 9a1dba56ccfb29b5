"""Starts a real helixd for a test: a temporary state dir, a free loopback
port, stopped by its PID. Also a tiny client for the Unix socket (peer
credentials identify the caller) and boto3 / aws CLI settings for TCP
(SigV4 with the root credentials helixd writes on first start)."""

import configparser
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD_DIR = os.environ.get("HELIX_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
BIN = os.path.join(BUILD_DIR, "bin")
AWS = "/usr/bin/aws"  # Debian's aws CLI v2; the pyenv shim on PATH is v1


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class ApiError(Exception):
    def __init__(self, status, error_type, message):
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message


class Helixd:
    def __init__(self, extra_args=(), state_dir=None):
        self.owns_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="helixd-test-")
        os.chmod(self.state_dir, 0o755)
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.start()

    def start(self):
        args = [os.path.join(BIN, "helixd"), "--state-dir", self.state_dir, "--port", "0",
                "--log-level", "warn"] + self.extra_args
        self.stderr = open(os.path.join(self.state_dir, "helixd.stderr"), "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on 127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError("helixd did not start: " + line + self.read_stderr())
        self.port = int(line.split()[2].split(":")[1])
        self.socket = os.path.join(self.state_dir, "helixd.sock")

    def read_stderr(self):
        with open(os.path.join(self.state_dir, "helixd.stderr"), errors="replace") as f:
            return f.read()

    def _forget_process(self):
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._forget_process()

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._forget_process()

    def close(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # --- Unix-socket client (identity from peer credentials) ---
    def request(self, method, path, body=None, timeout=60):
        conn = UnixHTTPConnection(self.socket, timeout=timeout)
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        if resp.status >= 300:
            try:
                err = json.loads(raw)
            except ValueError:
                err = {"message": raw.decode(errors="replace")}
            raise ApiError(resp.status, resp.getheader("x-amzn-ErrorType"), err.get("message"))
        if resp.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(raw)
        return raw, dict(resp.getheaders())

    def batch(self, operation, body):
        return self.request("POST", "/v1/" + operation.lower(), body)

    def submit(self, command, **kwargs):
        body = {"jobName": kwargs.pop("name", "test"), "jobQueue": kwargs.pop("queue", "default"),
                "jobDefinition": kwargs.pop("definition", "helix-command")}
        if command is not None:
            body.setdefault("containerOverrides", {})["command"] = command
        for key, value in kwargs.items():
            body[key] = value
        return self.batch("SubmitJob", body)["jobId"]

    def describe(self, job_id):
        jobs = self.batch("DescribeJobs", {"jobs": [job_id]})["jobs"]
        return jobs[0] if jobs else None

    def wait(self, job_id, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.request("GET", f"/helix/v1/jobs/{job_id}/wait?timeoutSeconds=10")
            if job["status"] in ("SUCCEEDED", "FAILED"):
                return job
        raise TimeoutError(f"job {job_id} did not finish in {timeout}s")

    def wait_status(self, job_id, statuses, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.describe(job_id)
            if job and job["status"] in statuses:
                return job
            time.sleep(0.05)
        raise TimeoutError(f"job {job_id} never reached {statuses}: {self.describe(job_id)}")

    def log(self, job_id, attempt=None):
        path = f"/helix/v1/jobs/{job_id}/log?offset=0"
        if attempt:
            path += f"&attempt={attempt}"
        data, _ = self.request("GET", path)
        return data.decode()

    # --- TCP + SigV4 settings for boto3 and the aws CLI ---
    def credentials(self):
        cp = configparser.ConfigParser()
        cp.read(os.path.join(self.state_dir, "credentials"))
        return cp["helix"]["aws_access_key_id"], cp["helix"]["aws_secret_access_key"]

    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def aws_env(self):
        key, secret = self.credentials()
        env = dict(os.environ)
        empty = os.path.join(self.state_dir, "empty-aws-config")
        open(empty, "a").close()
        env.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": empty,
                    "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_PAGER": ""})
        env.pop("AWS_PROFILE", None)
        return env

    def aws(self, *args, check=True):
        proc = subprocess.run([AWS, "batch", *args, "--endpoint-url", self.endpoint(),
                               "--output", "json"], env=self.aws_env(), capture_output=True,
                              text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws batch {' '.join(args)} failed ({proc.returncode}): "
                                 f"{proc.stderr}")
        if check:
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc

    def boto3(self):
        import boto3
        key, secret = self.credentials()
        return boto3.client("batch", endpoint_url=self.endpoint(), region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)


class MpiCluster(Helixd):
    """A helixd under mpirun: rank 0 the controller, one emulated node agent
    per (name, hwloc synthetic topology) in `nodes`, all on this machine.
    --enable-recovery keeps the other ranks alive when a test kills one."""

    def __init__(self, nodes, extra_args=(), state_dir=None):
        self.nodes = list(nodes)
        super().__init__(extra_args, state_dir)

    def start(self):
        helixd = os.path.join(BIN, "helixd")
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        args = ["mpirun", "--oversubscribe", "--enable-recovery", "--mca", "btl", "self,tcp",
                "-np", "1", helixd, "--mpi", "--state-dir", self.state_dir, "--port", "0",
                "--log-level", "warn", "--heartbeat-timeout-ms", "1500"] + self.extra_args
        for name, topology in self.nodes:
            args += [":", "-np", "1", helixd, "--mpi", "--state-dir", self.state_dir,
                     "--node-name", name, "--topology", topology]
        self.stderr = open(os.path.join(self.state_dir, "helixd.stderr"), "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
                                     start_new_session=True)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on 127.0.0.1:"):
            os.killpg(self.proc.pid, signal.SIGKILL)  # mpirun and every rank
            self.proc.wait()
            message = "helixd --mpi did not start: " + line + self.read_stderr()
            self._forget_process()
            if self.owns_dir:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            raise RuntimeError(message)
        self.port = int(line.split()[2].split(":")[1])
        self.socket = os.path.join(self.state_dir, "helixd.sock")

    def agent_pid(self, name):
        """The pid of the agent rank emulating node `name` in this cluster,
        found by its exact arguments (state dir included): an agent of an
        earlier cluster with the same node name can still be exiting (under
        ASan it was, and a name-only match killed that one instead)."""
        want = [os.path.join(BIN, "helixd"), "--mpi", "--state-dir", self.state_dir,
                "--node-name", name]
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
            except (OSError, ValueError):
                continue
            if entry.isdigit() and argv[:len(want)] == want:
                return int(entry)
        return None

    def kill_node(self, name):
        """A node dies: its agent and every process of its attempts (their
        shims keep the agent's run directory on their command line)."""
        os.kill(self.agent_pid(name), signal.SIGKILL)
        shims = subprocess.run(["pgrep", "-f", "--", f"--run-dir {self.state_dir}/agents/{name}/run"],
                               capture_output=True, text=True).stdout.split()
        for shim in shims:  # each shim leads the session of its attempt's processes
            subprocess.run(["pkill", "-9", "-s", shim])

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._forget_process()
