"""One exit-code rule in every tool (docs/TOOLS.md): 0 ok, 1 failure or
regression, 2 usage or bad input. Checks each tool's --help states it and that
usage errors exit 2 before the tool does anything (no build, no servers)."""
import os
import unittest

from helpers import TOOLS, data, run_path, run_tool

PYTHON_TOOLS = ["compare", "plot", "summarize", "limits", "record", "history", "bisect-check",
                "fit-noise", "gate-rates"]
SHELL_TOOLS = ["run", "test", "sanitize", "fuzz", "servers", "capacity"]
RULE = "Exit status (the rule of every cabench tool): 0"


class ExitCodeRuleTest(unittest.TestCase):
    def tool(self, name, *args, env=None):
        if name in PYTHON_TOOLS:
            return run_tool(name, *args, env=env)
        return run_path(os.path.join(TOOLS, name), *args, env=env)

    def test_every_help_states_the_rule(self):
        for name in PYTHON_TOOLS + SHELL_TOOLS:
            proc = self.tool(name, "--help")
            self.assertEqual(proc.returncode, 0, (name, proc.stderr))
            text = " ".join(proc.stdout.split())
            self.assertIn(RULE, text, name)
            self.assertRegex(text, r"\b1 (a |some )?\w+", name)
            self.assertRegex(text, r"\b2 usage", name)

    def test_unknown_flags_exit_2_with_one_line(self):
        for name in PYTHON_TOOLS + SHELL_TOOLS:
            args = ["start", "--frobnicate"] if name == "servers" else ["--frobnicate"]
            if name == "compare":
                args += [data("single.json"), data("single.json")]
            proc = self.tool(name, *args)
            self.assertEqual(proc.returncode, 2, (name, proc.stdout, proc.stderr))
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (name, proc.stderr))
            self.assertTrue(lines[0].startswith(f"tools/{name}: "), lines[0])
            self.assertIn("frobnicate", lines[0])

    def test_bad_values_exit_2(self):
        cases = [("run", "--preset=huge"), ("run", "--queries=0"), ("fuzz", "--seconds=0"),
                 ("fuzz", "nosuchtarget"), ("sanitize", "memory"), ("servers", "frobnicate"),
                 ("servers", "start", "--cache-port=99999"), ("servers", "pause", "cache", "x"),
                 ("servers", "start", "--cache-cluster=2"), ("servers", "start", "--cache-cluster=x"),
                 ("servers", "start", "--cache-cluster=3", "--cache-port=26401", "--db-port=36402"),
                 ("limits", "--threads=0"), ("plot", data("series_new_cache.json"), "--width=3"),
                 ("history", "--alpha=2"), ("record", data("single.json"), "--machine=a/b"),
                 ("bisect-check", "--good=HEAD", "--repetitions=0")]
        for name, *args in cases:
            proc = self.tool(name, *args)
            self.assertEqual(proc.returncode, 2, (name, args, proc.stderr))

    def test_servers_status_says_not_running_with_3(self):
        # The one documented exception: `status` reports a state (LSB: 3 = not running).
        env = {"CABENCH_SERVERS_DIR": "", "XDG_RUNTIME_DIR": "/nonexistent-cabench-test"}
        proc = self.tool("servers", "status", "--cache-port=1", "--db-port=2", env=env)
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        self.assertIn("no cabench servers on ports 1/2", proc.stdout)


if __name__ == "__main__":
    unittest.main()
