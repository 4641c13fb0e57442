"""examples/cnn_dataloader_checkpoint.py: it learns, and the run resumed from its checkpoint
(model, Adam state, StepLR state, the DataLoader's generator) is bit for bit the run that
never stopped. (The interpreter backend: the same traces as cpu, without building kernels.)"""
import importlib.util
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "examples" / "cnn_dataloader_checkpoint.py"


def _example():
    spec = importlib.util.spec_from_file_location("cnn_dataloader_checkpoint", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_resumed_run_is_the_uninterrupted_run(tmp_path):
    ex = _example()
    straight, acc_straight = ex.main(4, backend="interpret", resume=False, log=False)
    resumed, acc_resumed = ex.main(4, backend="interpret", checkpoint=tmp_path / "ck.pt",
                                   log=False)
    assert len(straight) == 4 * 9 and resumed == straight and acc_resumed == acc_straight
    assert sum(straight[-9:]) < 0.6 * sum(straight[:9]) and acc_straight >= 0.75
