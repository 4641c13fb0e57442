"""A character-level language model: Embedding -> LSTM -> Linear, trained on a short text and
sampled from, the shape of karpathy's char-rnn and the PyTorch char-RNN tutorials.

What such a script does, with only the import line changed: a vocabulary from the text,
random (input, next-character) windows drawn with torch.randint, `nn.Embedding`,
`nn.LSTM(batch_first=True)`, `nn.Linear`, cross-entropy over (N * L, vocab) logits,
AdamW with gradient clipping in a compiled training step, then sampling in eval mode with
`torch.multinomial` under `torch.no_grad()`.
Run it with `python examples/char_rnn.py`.
"""
import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F

TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "an apple a day keeps the doctor away. the early bird catches the worm. ") * 4
CHARS = sorted(set(TEXT))
STOI = {c: i for i, c in enumerate(CHARS)}
DATA = torch.tensor([STOI[c] for c in TEXT])


class CharModel(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.emb(idx), state)
        return self.head(out), state


def batch(batch_size=8, length=12):
    starts = torch.randint(0, len(DATA) - length - 1, (batch_size,))
    offsets = torch.arange(length)
    x = DATA[starts.unsqueeze(1) + offsets]
    y = DATA[starts.unsqueeze(1) + offsets + 1]
    return x, y


def build(seed=0, lr=0.01, compile=True, backend="cpu"):
    torch.manual_seed(seed)
    model = CharModel(len(CHARS))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)

    def step(x, y):
        opt.zero_grad()
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss
    return model, (torch.compile(step, backend=backend) if compile else step)


def sample(model, start="the ", n=40, seed=1):
    torch.manual_seed(seed)
    model.eval()
    out = list(start)
    with torch.no_grad():
        logits, state = model(torch.tensor([[STOI[c] for c in start]]))
        for _ in range(n):
            probs = F.softmax(logits[0, -1], dim=-1)
            nxt = torch.multinomial(probs, 1).item()
            out.append(CHARS[nxt])
            logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return "".join(out)


def main(steps=150):
    model, step = build()
    for i in range(steps):
        loss = step(*batch())
        if i % 25 == 0 or i == steps - 1:
            print(f"step {i:4d}  loss {loss.item():.4f}")
    print("sample:", repr(sample(model)))


if __name__ == "__main__":
    main()
