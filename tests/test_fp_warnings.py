"""Eager ops give inf and nan silently, as PyTorch's do, where NumPy would warn
(`divide by zero encountered in log`), unless STEPJIT_FP_WARNINGS=1 keeps NumPy's warnings.
Run in fresh interpreters: the setting is made when stepjit is imported."""
import subprocess
import sys
from pathlib import Path

from stepjit import config

PROGRAM = """
import stepjit as torch
x = torch.tensor([0.0, 1.0, -1.0])
print(torch.log(x).tolist(), torch.sqrt(x).tolist(), (x / 0).tolist(),
      torch.exp(torch.tensor([1000.0])).tolist(), torch.log(x).sum().item())
"""


def run(**env):
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", PROGRAM],
                          capture_output=True, text=True, timeout=120,
                          env=config.child_environment(str(Path(__file__).parents[1])) | env)


def test_log_of_zero_is_silent_as_in_pytorch():
    out = run()
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("]")[0] == "[-inf, 0.0, nan", out.stdout
    assert "RuntimeWarning" not in out.stderr


def test_numpy_warnings_kept_when_asked():
    out = run(STEPJIT_FP_WARNINGS="1")
    assert out.returncode != 0 and "divide by zero encountered in log" in out.stderr
