"""`stepjit report`: the HTML page a person reads. Checked by parsing what it holds and, where
Chromium is installed (`apt-get install chromium`), by rendering it headless: a screenshot is
kept with the test's files and the rendered page must show the graph, the kernels and the
recompile, with no errors in the console."""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = textwrap.dedent("""
    import stepjit as torch
    torch.manual_seed(0)
    w1 = torch.randn(10, 8, requires_grad=True)
    w2 = torch.randn(8, 2, requires_grad=True)

    @torch.compile
    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-3 * w1.grad)
            w2.sub_(1e-3 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss

    for n in (16, 16, 16, 24):           # a new batch size: a recompile
        step(torch.randn(n, 10), torch.randn(n, 2))
""")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.classes = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.classes += [v for k, v in attrs if k == "class"]

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    (d / "tutorial.py").write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "stepjit.cli", "report", "tutorial.py", "--out",
                           "r.html"], cwd=d, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return d / "r.html"


def test_the_page_holds_traces_reasons_graph_kernels_and_profile(page):
    parsed = _Text()
    parsed.feed(page.read_text())
    text = "".join(parsed.text)
    assert "svg" in parsed.tags and "rect" in parsed.tags and "script" not in parsed.tags
    assert "Trace 1: first call" in text and "Trace 2:" in text
    assert re.search(r"tensor argument 0 changed from float32\[16, 10\] to float32\[24, 10\]",
                     text), text[:3000]
    assert "recompile" in parsed.classes                   # highlighted in the timeline
    assert "= matmul" in text and "= clamp" in text         # graph nodes
    assert "IR: kernels" in text and "def " in text         # the generated kernel source
    assert "Where the time went" in text and "compiled call step" in text
    # each trace's guards: w1, a global read through its name every call (tracer/sources.py),
    # is checked on its shape, dtype, requires_grad and whether its .grad exists
    assert re.search(r"@w1: f32\[10, 8\] requires_grad \.grad is None", text)
    assert re.search(r"@w1: f32\[10, 8\] requires_grad \.grad exists", text)


def test_it_renders_in_a_browser(page, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium here (apt-get install chromium): the page is checked by parsing")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, *flags, "--window-size=1400,2000", f"--screenshot={shot}",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    assert "Uncaught" not in proc.stderr and "CONSOLE" not in proc.stderr, proc.stderr[-2000:]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert "Trace 2:" in dom and "<svg" in dom and "= matmul" in dom
    print(f"screenshot: {shot}")
