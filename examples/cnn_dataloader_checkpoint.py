"""A small CNN trained from a DataLoader, checkpointed halfway and resumed.

What a PyTorch image-classification script does, with only the import line changed:
a TensorDataset split by random_split, DataLoaders (shuffled training batches), a
Conv2d/MaxPool2d/Linear network, Adam with a StepLR schedule, a compiled training step,
and `torch.save` / `torch.load` of the model, optimizer and scheduler state. The data are
synthetic 1x12x12 images whose label says which quadrant is brightest.
Run it with `python examples/cnn_dataloader_checkpoint.py`.
"""
import os
import tempfile

import stepjit as torch
from stepjit.utils.data import DataLoader, TensorDataset, random_split


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(4 * 6 * 6, 4)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(x.flatten(1))


def make_data(n=96, seed=0):
    torch.manual_seed(seed)
    images = torch.rand(n, 1, 12, 12)
    labels = torch.randint(0, 4, (n,))
    for i, label in enumerate(labels.tolist()):   # brighten the labelled quadrant
        r, c = divmod(label, 2)
        images[i, 0, r * 6:(r + 1) * 6, c * 6:(c + 1) * 6] += 0.5
    return TensorDataset(images, labels)


def build(seed=1, lr=0.01):
    torch.manual_seed(seed)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def train(model, opt, sched, loader, epochs, backend="cpu"):
    """Train `epochs` epochs with a compiled step; returns every batch's loss."""
    @torch.compile(backend=backend)
    def step(x, y):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    losses = []
    for _ in range(epochs):
        for x, y in loader:
            losses.append(step(x, y).item())
        sched.step()
    return losses


def evaluate(model, loader):
    correct = total = 0
    model.eval()
    with torch.inference_mode():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total


def main(epochs=4, backend="cpu", resume=True, checkpoint=None, log=True):
    """Train `epochs` epochs; with resume, stop halfway, save a checkpoint, load it into a
    fresh model, optimizer and schedule, and train the rest. Returns (losses, accuracy)."""
    train_set, test_set = random_split(make_data(), [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(0))
    loader = DataLoader(train_set, batch_size=8, shuffle=True,
                        generator=torch.Generator().manual_seed(2))
    model, opt, sched = build()
    first = epochs // 2 if resume else epochs
    losses = train(model, opt, sched, loader, first, backend)
    if resume:
        path = checkpoint or os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "epoch": first,
                    "generator": loader.generator.get_state()}, path)
        model, opt, sched = build(seed=123)        # a new process would start like this
        ck = torch.load(path, weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        loader.generator.set_state(ck["generator"])
        losses += train(model, opt, sched, loader, epochs - ck["epoch"], backend)
    accuracy = evaluate(model, DataLoader(test_set, batch_size=16))
    if log:
        print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, test accuracy {accuracy:.2f}")
    return losses, accuracy


if __name__ == "__main__":
    main()
