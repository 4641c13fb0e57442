"""stepjit/config.py is the one module that reads the environment; docs/configuration.md shows
its table; every STEPJIT_ variable the package names is in that table."""
import ast
import os
import re
from pathlib import Path

import pytest

from stepjit import config

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stepjit"


def _package_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path.read_text()


def _environment_reads(source):
    """Lines of `source` that touch the process environment: os.environ, os.getenv,
    os.putenv/unsetenv, or those names imported from os."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb",
                                                             "putenv", "unsetenv"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "getenv", "environb") for a in node.names):
            lines.append(node.lineno)
    return lines


def test_only_config_reads_the_environment():
    offenders = [f"{name}:{line}" for name, source in _package_sources()
                 if name != "stepjit/config.py" for line in _environment_reads(source)]
    assert offenders == [], ("these modules read the environment themselves; add the variable "
                             f"to stepjit/config.py's table and ask config instead: {offenders}")


def test_the_environment_check_finds_a_read():
    assert _environment_reads('import os\nx = os.environ.get("STEPJIT_X")\n') == [2]
    assert _environment_reads('from os import getenv\n') == [1]
    assert _environment_reads('import os\nx = os.path.join("a")\n') == []


def test_every_stepjit_variable_the_package_names_is_in_the_table():
    named = set()
    for _, source in _package_sources():
        named |= set(re.findall(r"\bSTEPJIT_[A-Z_]*[A-Z]\b", source))
    assert named - set(config.VARIABLES) == set()


def test_docs_show_the_table():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert config.markdown_table() in doc, "docs/configuration.md: paste config.markdown_table()"


def test_settings_are_read_when_asked(monkeypatch):
    monkeypatch.delenv("STEPJIT_NATIVE", raising=False)
    assert config.native_mode() == "hot"
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    assert config.native_mode() == "never"
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    assert config.native_mode() == "always"
    for value, on in (("", False), ("0", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("STEPJIT_CHECK", value)
        assert config.check() is on
    monkeypatch.setenv("STEPJIT_BLAS", "0")
    assert not config.blas()
    monkeypatch.delenv("STEPJIT_BLAS")
    assert config.blas()
    monkeypatch.setenv("STEPJIT_LOGS", "guards, recompiles")
    assert config.logs("recompiles") and config.logs("guards") and not config.logs("ir")


def test_cache_root_falls_back_to_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path / "c"))
    assert config.cache_root() == str(tmp_path / "c")
    monkeypatch.delenv("STEPJIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert config.cache_root() == os.path.join(str(tmp_path / "x"), "stepjit")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert config.cache_root() == os.path.join(str(tmp_path / "h"), ".cache", "stepjit")


def test_unknown_variable_is_an_error():
    with pytest.raises(KeyError):
        config.raw("STEPJIT_NO_SUCH_SETTING")
