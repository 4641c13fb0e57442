# Written for stepjit's test corpus in the style of the common MNIST tutorials (a DataLoader
# over image tensors, Conv-BatchNorm-ReLU-MaxPool blocks, Adam, the loss printed every few
# steps, accuracy under no_grad in eval mode, a checkpoint saved at the end). The images are
# synthetic, so the run needs no download.
import stepjit as torch
import stepjit.nn as nn
from stepjit.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

num_epochs = 2
num_classes = 10
batch_size = 10
learning_rate = 0.001

train_images = torch.randn(40, 1, 28, 28)
train_labels = torch.randint(0, num_classes, (40,))
test_images = torch.randn(20, 1, 28, 28)
test_labels = torch.randint(0, num_classes, (20,))
train_loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=batch_size,
                          shuffle=True)
test_loader = DataLoader(TensorDataset(test_images, test_labels), batch_size=batch_size)


class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super(ConvNet, self).__init__()
        self.block1 = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.block2 = nn.Sequential(
            nn.Conv2d(4, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = nn.Linear(7 * 7 * 8, num_classes)

    def forward(self, x):
        x = self.block1(x)
        x = self.block2(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


model = ConvNet(num_classes).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

steps_per_epoch = len(train_loader)
for epoch in range(num_epochs):
    model.train()
    for i, (images, labels) in enumerate(train_loader):
        images = images.to(device)
        labels = labels.to(device)

        outputs = model(images)
        loss = criterion(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if (i + 1) % 2 == 0:
            print('Epoch [{}/{}], Step [{}/{}], Loss: {:.4f}'
                  .format(epoch + 1, num_epochs, i + 1, steps_per_epoch, loss.item()))

model.eval()
with torch.no_grad():
    correct = 0
    total = 0
    for images, labels in test_loader:
        outputs = model(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
    print('Test accuracy: {} %'.format(100 * correct / total))

torch.save(model.state_dict(), 'convnet.ckpt')
