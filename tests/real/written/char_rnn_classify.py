# Written for stepjit's test corpus in the style of the "classify names with a character-level
# RNN" tutorials: letters one-hot encoded into (line_length, 1, n_letters) tensors, a hand-made
# RNN cell (i2h and h2o Linear layers over torch.cat of input and hidden) stepped letter by
# letter in a Python loop, LogSoftmax + NLLLoss, SGD written as
# p.data.add_(p.grad.data, alpha=-learning_rate), random training examples, and a running
# average of the loss.
import random
import string

import stepjit as torch
import stepjit.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)

category_lines = {
    'English': ['Smith', 'Jones', 'Brown', 'Taylor', 'Wilson'],
    'French': ['Martin', 'Bernard', 'Dubois', 'Moreau', 'Laurent'],
    'Italian': ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi'],
}
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.h2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


n_hidden = 32
rnn = RNN(n_letters, n_hidden, n_categories)
criterion = nn.NLLLoss()
learning_rate = 0.005


def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]


def randomTrainingExample():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


random.seed(1)
examples = [randomTrainingExample() for _ in range(30)]

current_loss = 0
all_losses = []
for it, (category, line, category_tensor, line_tensor) in enumerate(examples):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    current_loss += loss.item()
    if (it + 1) % 10 == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = '✓' if guess == category else '✗ (%s)' % category
        print('%d %.4f %s / %s %s' % (it + 1, loss.item(), line, guess, correct))
        all_losses.append(current_loss / 10)
        current_loss = 0
