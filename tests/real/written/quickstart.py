# Written for stepjit's test corpus in the style of the official quickstart and "optimizing
# model parameters" tutorials: DataLoaders over a dataset, a NeuralNetwork module with
# nn.Flatten and an nn.Sequential stack, train_loop / test_loop functions taking
# (dataloader, model, loss_fn, optimizer), enumerate(dataloader) with `batch * batch_size +
# len(X)` progress, accuracy as (pred.argmax(1) == y).type(torch.float).sum().item(), the model
# saved whole and as a state_dict and loaded back. Synthetic 28x28 "images".
import stepjit as torch
from stepjit import nn
from stepjit.utils.data import DataLoader, TensorDataset

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")

training_data = TensorDataset(torch.rand(48, 1, 28, 28), torch.randint(0, 10, (48,)))
test_data = TensorDataset(torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,)))

batch_size = 16
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

learning_rate = 1e-3
epochs = 3
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 2 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    test_loop(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model_weights.pth")
model2 = NeuralNetwork().to(device)
model2.load_state_dict(torch.load("model_weights.pth", weights_only=True))
model2.eval()
torch.save(model, "model.pth")
model3 = torch.load("model.pth", weights_only=False)
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model3(x)
    print(f'Predicted: "{pred[0].argmax(0)}", Actual: "{y}"')
