# Written for stepjit's test corpus in the style of character-level language-model scripts
# that train several model types from one file: a Dataset of words encoded as index tensors
# padded with -1 targets (cross_entropy(..., ignore_index=-1)), an "infinite" DataLoader over
# RandomSampler(replacement=True, num_samples=huge) pulled with next(iter), models chosen by
# --type (bag-of-words with a causal average over a tril mask, an RNN and a GRU built from
# cells with a learned start state expanded over the batch), AdamW with betas and eps,
# evaluation under @torch.no_grad() in eval mode, a while True loop that breaks at
# --max-steps, and samples drawn with multinomial.
import argparse
import random

import stepjit as torch
import stepjit.nn as nn
from stepjit.nn import functional as F
from stepjit.utils.data import DataLoader, Dataset

parser = argparse.ArgumentParser()
parser.add_argument('--type', type=str, default='rnn')
parser.add_argument('--max-steps', type=int, default=10)
parser.add_argument('--batch-size', type=int, default=8)
parser.add_argument('--n-embd', type=int, default=12)
parser.add_argument('--n-embd2', type=int, default=12)
parser.add_argument('--learning-rate', type=float, default=5e-3)
parser.add_argument('--weight-decay', type=float, default=0.01)
parser.add_argument('--seed', type=int, default=3407)
args = parser.parse_args()

torch.manual_seed(args.seed)
random.seed(args.seed)


class CharDataset(Dataset):
    def __init__(self, words, chars, max_word_length):
        self.words = words
        self.chars = chars
        self.max_word_length = max_word_length
        self.stoi = {ch: i + 1 for i, ch in enumerate(chars)}
        self.itos = {i: s for s, i in self.stoi.items()}

    def __len__(self):
        return len(self.words)

    def get_vocab_size(self):
        return len(self.chars) + 1

    def get_output_length(self):
        return self.max_word_length + 1

    def encode(self, word):
        return torch.tensor([self.stoi[w] for w in word], dtype=torch.long)

    def decode(self, ix):
        return ''.join(self.itos[i] for i in ix)

    def __getitem__(self, idx):
        word = self.words[idx]
        ix = self.encode(word)
        x = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        y = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        x[1:1 + len(ix)] = ix
        y[:len(ix)] = ix
        y[len(ix) + 1:] = -1
        return x, y


syllables = ['ma', 'ri', 'to', 'el', 'an', 'ko', 'su', 'li']
words = sorted({''.join(random.choice(syllables) for _ in range(random.randint(1, 3)))
                for _ in range(120)})
random.shuffle(words)
chars = sorted(set(''.join(words)))
max_len = max(len(w) for w in words)
train_dataset = CharDataset(words[:-10], chars, max_len)
test_dataset = CharDataset(words[-10:], chars, max_len)
vocab_size = train_dataset.get_vocab_size()
block_size = train_dataset.get_output_length()


class InfiniteDataLoader:
    def __init__(self, dataset, **kwargs):
        train_sampler = torch.utils.data.RandomSampler(dataset, replacement=True,
                                                       num_samples=int(1e10))
        self.train_loader = DataLoader(dataset, sampler=train_sampler, **kwargs)
        self.data_iter = iter(self.train_loader)

    def next(self):
        try:
            batch = next(self.data_iter)
        except StopIteration:
            self.data_iter = iter(self.train_loader)
            batch = next(self.data_iter)
        return batch


class BoW(nn.Module):
    def __init__(self, vocab_size, block_size, n_embd, n_embd2):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, block_size, block_size))
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, n_embd2),
                                      c_proj=nn.Linear(n_embd2, n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        att = torch.zeros((b, t, t), device=x.device)
        att = att.masked_fill(self.bias[:, :t, :t] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        x = x + att @ x
        x = x + self.mlp.c_proj(torch.tanh(self.mlp.c_fc(x)))
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        return logits, loss


class RNNCell(nn.Module):
    def __init__(self, n_embd, n_embd2):
        super().__init__()
        self.xh_to_h = nn.Linear(n_embd + n_embd2, n_embd2)

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], dim=1)
        return F.tanh(self.xh_to_h(xh))


class GRUCell(nn.Module):
    def __init__(self, n_embd, n_embd2):
        super().__init__()
        self.xh_to_z = nn.Linear(n_embd + n_embd2, n_embd2)
        self.xh_to_r = nn.Linear(n_embd + n_embd2, n_embd2)
        self.xh_to_hbar = nn.Linear(n_embd + n_embd2, n_embd2)

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], dim=1)
        r = F.sigmoid(self.xh_to_r(xh))
        hprev_reset = r * hprev
        xhr = torch.cat([xt, hprev_reset], dim=1)
        hbar = F.tanh(self.xh_to_hbar(xhr))
        z = F.sigmoid(self.xh_to_z(xh))
        return (1 - z) * hprev + z * hbar


class RNN(nn.Module):
    def __init__(self, vocab_size, block_size, n_embd, n_embd2, cell_type):
        super().__init__()
        self.block_size = block_size
        self.start = nn.Parameter(torch.zeros(1, n_embd2))
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.cell = RNNCell(n_embd, n_embd2) if cell_type == 'rnn' else GRUCell(n_embd, n_embd2)
        self.lm_head = nn.Linear(n_embd2, vocab_size)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        emb = self.wte(idx)
        hprev = self.start.expand((b, -1))
        hiddens = []
        for i in range(t):
            xt = emb[:, i, :]
            ht = self.cell(xt, hprev)
            hprev = ht
            hiddens.append(ht)
        hidden = torch.stack(hiddens, 1)
        logits = self.lm_head(hidden)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        return logits, loss


@torch.no_grad()
def evaluate(model, dataset, batch_size=5, max_batches=None):
    model.eval()
    loader = DataLoader(dataset, shuffle=True, batch_size=batch_size, num_workers=0)
    losses = []
    for i, batch in enumerate(loader):
        X, Y = batch
        logits, loss = model(X, Y)
        losses.append(loss.item())
        if max_batches is not None and i >= max_batches:
            break
    mean_loss = torch.tensor(losses).mean().item()
    model.train()
    return mean_loss


@torch.no_grad()
def generate(model, idx, max_new_tokens):
    for _ in range(max_new_tokens):
        logits, _ = model(idx)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx


if args.type == 'bow':
    model = BoW(vocab_size, block_size, args.n_embd, args.n_embd2)
else:
    model = RNN(vocab_size, block_size, args.n_embd, args.n_embd2, cell_type=args.type)
print(f"model #params: {sum(p.numel() for p in model.parameters())}")

optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate,
                              weight_decay=args.weight_decay, betas=(0.9, 0.99), eps=1e-8)
batch_loader = InfiniteDataLoader(train_dataset, batch_size=args.batch_size, num_workers=0)

step = 0
while True:
    batch = batch_loader.next()
    X, Y = batch

    logits, loss = model(X, Y)

    model.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()

    if step % 5 == 0:
        print(f"step {step} | loss {loss.item():.4f}")

    step += 1
    if args.max_steps >= 0 and step >= args.max_steps:
        break

print('test loss', evaluate(model, test_dataset, batch_size=5, max_batches=2))
samples = generate(model, torch.zeros(3, 1, dtype=torch.long), 6)
for row in samples[:, 1:].tolist():
    print(test_dataset.decode([i for i in row if i != 0]))
