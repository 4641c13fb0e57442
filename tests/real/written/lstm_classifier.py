# Written for stepjit's test corpus in the style of the common "classify an image row by row
# with an RNN" tutorials: each 28x28 image is a sequence of 28 rows fed to a stacked nn.LSTM
# (batch_first, optionally bidirectional), the last time step's output goes to a Linear layer.
# Synthetic images; `--bidirectional` switches the LSTM.
import argparse

import stepjit as torch
import stepjit.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument('--bidirectional', action='store_true')
parser.add_argument('--epochs', type=int, default=2)
args = parser.parse_args()

device = torch.device('cpu')
sequence_length = 28
input_size = 28
hidden_size = 16
num_layers = 2
num_classes = 10
batch_size = 8
learning_rate = 0.003

data = torch.rand(32, 1, 28, 28)
targets = torch.randint(0, num_classes, (32,))
dataset = torch.utils.data.TensorDataset(data, targets)
train_loader = torch.utils.data.DataLoader(dataset=dataset, batch_size=batch_size, shuffle=True)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes, bidirectional):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                            bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * self.directions, num_classes)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers * self.directions, x.size(0), self.hidden_size).to(device)
        c0 = torch.zeros(self.num_layers * self.directions, x.size(0), self.hidden_size).to(device)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


model = RNN(input_size, hidden_size, num_layers, num_classes, args.bidirectional).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

for epoch in range(args.epochs):
    for i, (images, labels) in enumerate(train_loader):
        images = images.reshape(-1, sequence_length, input_size).to(device)
        labels = labels.to(device)

        outputs = model(images)
        loss = criterion(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

with torch.no_grad():
    images = data.reshape(-1, sequence_length, input_size)
    predicted = model(images).argmax(dim=1)
    print('train accuracy', (predicted == targets).float().mean().item())
