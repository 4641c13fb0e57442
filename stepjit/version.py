"""`torch.version`: what programs print or branch on (`torch.version.cuda` is None without CUDA).

`__version__` is the PyTorch release whose API stepjit follows, with stepjit's own version as
the local label ("2.13.0+stepjit0.1.0", in the shape of PyTorch's "2.13.0+cpu"): programs
written for PyTorch branch on it (`if torch.__version__ >= "1.10"`, `version.parse(...)`,
`int(torch.__version__.split(".")[0]) >= 2`), and a 0.x version would send them down
PyTorch 0.x paths (`Variable`, `volatile=True`). `stepjit` is the package's own version, as
pyproject.toml states it. Like PyTorch's TorchVersion, `__version__` compares with strings
and tuples by release numbers: `torch.__version__ >= (2, 0)`.
"""
import re

PYTORCH_API = "2.13.0"      # the release whose behaviour the tests record
stepjit = "0.1.0"


def _release(v) -> tuple:
    """(2, 13, 0) from "2.13.0+cpu", "2.13", (2, 13) or "1.9.0a0"."""
    if isinstance(v, tuple):
        return tuple(int(x) for x in v)
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(v))
    if m is None:
        raise ValueError(f"not a version: {v!r}")
    return tuple(int(x) for x in m.group(1).split("."))


def _pad(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


class TorchVersion(str):
    """A version string that compares as a version with strings and tuples (PyTorch's
    torch.torch_version.TorchVersion); a local label ("+cpu") does not take part."""

    def _cmp(self, other):
        a, b = _pad(_release(self), _release(other))
        return (a > b) - (a < b)

    def __lt__(self, other):
        return self._cmp(other) < 0

    def __le__(self, other):
        return self._cmp(other) <= 0

    def __gt__(self, other):
        return self._cmp(other) > 0

    def __ge__(self, other):
        return self._cmp(other) >= 0

    def __eq__(self, other):
        if isinstance(other, str) and "+" in other:
            return str.__eq__(self, other)
        try:
            return self._cmp(other) == 0
        except (ValueError, TypeError):
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


__version__ = TorchVersion(f"{PYTORCH_API}+stepjit{stepjit}")
cuda = None
hip = None
git_version = "unknown"
debug = False
