# Written for stepjit's test corpus in the style of the official transfer-learning tutorial:
# a pretrained backbone (here a small conv net trained a few steps first, standing in for a
# downloaded model) whose parameters are frozen with requires_grad = False, a new final
# layer, SGD with momentum over the new layer's parameters, lr_scheduler.StepLR stepped per
# epoch, a train_model function looping over phases with torch.set_grad_enabled(phase ==
# 'train'), running_corrects from torch.sum(preds == labels.data), .double() accuracy, and the
# best weights kept with copy.deepcopy(model.state_dict()).
import copy

import stepjit as torch
import stepjit.nn as nn
import stepjit.optim as optim
from stepjit.optim import lr_scheduler

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

image_datasets = {x: torch.utils.data.TensorDataset(torch.randn(12, 3, 12, 12),
                                                    torch.randint(0, 2, (12,)))
                  for x in ['train', 'val']}
dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True)
               for x in ['train', 'val']}
dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}


class Backbone(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6),
                                      nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)))
        self.fc = nn.Linear(6, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


# "pretraining": a few steps on another task
model_conv = Backbone()
pre_opt = optim.SGD(model_conv.parameters(), lr=0.1)
for _ in range(3):
    pre_opt.zero_grad()
    out = model_conv(torch.randn(8, 3, 12, 12))
    nn.functional.cross_entropy(out, torch.randint(0, 5, (8,))).backward()
    pre_opt.step()


def train_model(model, criterion, optimizer, scheduler, num_epochs=2):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0

    for epoch in range(num_epochs):
        print(f'Epoch {epoch}/{num_epochs - 1}')
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()

            running_loss = 0.0
            running_corrects = 0

            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)

                optimizer.zero_grad()

                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)

                    if phase == 'train':
                        loss.backward()
                        optimizer.step()

                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()

            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')

            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())

    print(f'Best val Acc: {best_acc:4f}')
    model.load_state_dict(best_model_wts)
    return model


for param in model_conv.parameters():
    param.requires_grad = False

num_ftrs = model_conv.fc.in_features
model_conv.fc = nn.Linear(num_ftrs, 2)
model_conv = model_conv.to(device)

criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=1, gamma=0.1)

model_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, num_epochs=2)
