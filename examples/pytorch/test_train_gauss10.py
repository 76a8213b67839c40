"""The example's command line: bad input and an unreachable broker are one line on stderr and a non-zero exit."""
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "train_gauss10.py")
ENV = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..", "clients", "python", "src"))


def run(*args):
    return subprocess.run(["/usr/bin/python3", SCRIPT, *args], capture_output=True, text=True, env=ENV, timeout=300)


def test_bad_arguments_are_one_line_and_exit_2():
    for args, message in ((["--bootstrap-servers", "x:1", "--experiment", "e", "--runs", "0"], "must be >= 1, got 0"),
                          (["--bootstrap-servers", "x:1", "--experiment", "a b"], "experiment id 'a b'"),
                          (["--bootstrap-servers", "x:1", "--experiment", "e", "--snapshot-at", "3"], "needs --snapshot-dir")):
        result = run(*args)
        assert result.returncode == 2, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert message in last and last.startswith("train_gauss10.py: error:"), result.stderr


def test_an_unreachable_broker_is_one_line_and_exit_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("--bootstrap-servers", "127.0.0.1:%d" % port, "--experiment", "e", "--connect-timeout", "2")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("train_gauss10.py:")]
    assert errors == ["train_gauss10.py: error: Kafka at 127.0.0.1:%d did not answer within 2 s: " % port
                      + errors[0].split(" s: ", 1)[1]], result.stderr
    assert result.stdout == ""


if __name__ == "__main__":
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", __file__]))
