"""The Step Functions JSON 1.0 protocol of helixd through Debian's aws CLI v2
and boto3 over TCP with SigV4 (service "states"): state machine CRUD and the
error shapes the clients parse."""

import json
import subprocess
import unittest

from helixd import AWS, Helixd

PASS_MACHINE = '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}}'


class StatesApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Helixd()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def sfn(self, *args, check=True):
        proc = subprocess.run([AWS, "stepfunctions", *args, "--endpoint-url", self.d.endpoint(),
                               "--output", "json"], env=self.d.aws_env(), capture_output=True,
                              text=True, timeout=120)
        if check:
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc

    def client(self):
        import boto3
        key, secret = self.d.credentials()
        return boto3.client("stepfunctions", endpoint_url=self.d.endpoint(),
                            region_name="us-east-1", aws_access_key_id=key,
                            aws_secret_access_key=secret)

    def test_cli_create_describe_list_update_delete(self):
        created = self.sfn("create-state-machine", "--name", "cli-crud", "--definition",
                           PASS_MACHINE, "--role-arn", "arn:aws:iam::123456789012:role/x")
        arn = created["stateMachineArn"]
        self.assertTrue(arn.endswith(":stateMachine:cli-crud"))
        described = self.sfn("describe-state-machine", "--state-machine-arn", arn)
        self.assertEqual(described["definition"], PASS_MACHINE)
        self.assertEqual(described["type"], "STANDARD")
        names = [m["name"] for m in self.sfn("list-state-machines")["stateMachines"]]
        self.assertIn("cli-crud", names)
        self.sfn("update-state-machine", "--state-machine-arn", arn, "--definition",
                 '{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}')
        self.assertIn('"B"', self.sfn("describe-state-machine", "--state-machine-arn",
                                      arn)["definition"])
        self.sfn("delete-state-machine", "--state-machine-arn", arn)
        missing = self.sfn("describe-state-machine", "--state-machine-arn", arn, check=False)
        self.assertEqual(missing.returncode, 254)
        self.assertIn("(StateMachineDoesNotExist)", missing.stderr)

    def test_cli_invalid_definition_and_name(self):
        bad = self.sfn("create-state-machine", "--name", "bad", "--definition", '{"States":{}}',
                       "--role-arn", "r", check=False)
        self.assertEqual(bad.returncode, 254)
        self.assertIn("(InvalidDefinition)", bad.stderr)
        self.assertIn("StartAt", bad.stderr)
        bad_name = self.sfn("create-state-machine", "--name", "a b", "--definition",
                            PASS_MACHINE, "--role-arn", "r", check=False)
        self.assertIn("(InvalidName)", bad_name.stderr)

    def test_boto3_modeled_exceptions_and_timestamps(self):
        sfn = self.client()
        created = sfn.create_state_machine(name="boto-sm", definition=PASS_MACHINE, roleArn="r")
        # botocore parsed the epoch-seconds timestamp into a datetime.
        self.assertEqual(created["creationDate"].year >= 2020, True)
        with self.assertRaises(sfn.exceptions.StateMachineDoesNotExist):
            sfn.describe_state_machine(
                stateMachineArn=created["stateMachineArn"].replace("boto-sm", "ghost"))
        with self.assertRaises(sfn.exceptions.InvalidArn):
            sfn.describe_state_machine(stateMachineArn="arn:aws:states:nowhere")
        pages = sfn.get_paginator("list_state_machines").paginate(
            PaginationConfig={"PageSize": 1})
        names = [m["name"] for page in pages for m in page["stateMachines"]]
        self.assertIn("boto-sm", names)


if __name__ == "__main__":
    unittest.main()
