# Written for stepjit's test corpus in the style of the common variational autoencoder
# tutorials: a fully connected encoder giving mu and log-variance, the reparameterization
# trick with randn_like, a sigmoid decoder, binary cross-entropy (summed) plus the KL term,
# Adam, and samples decoded from random codes under no_grad. Synthetic "images" in [0, 1].
import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F

image_size = 64
h_dim = 32
z_dim = 8
num_epochs = 2
batch_size = 16
learning_rate = 1e-3

images = torch.rand(64, image_size)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images),
                                     batch_size=batch_size, shuffle=True)


class VAE(nn.Module):
    def __init__(self, image_size=784, h_dim=400, z_dim=20):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc_mu = nn.Linear(h_dim, z_dim)
        self.fc_logvar = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(z_dim, h_dim)
        self.fc4 = nn.Linear(h_dim, image_size)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var / 2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h))

    def forward(self, x):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        return self.decode(z), mu, log_var


model = VAE(image_size, h_dim, z_dim)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

for epoch in range(num_epochs):
    train_loss = 0
    for i, (x,) in enumerate(loader):
        x_reconst, mu, log_var = model(x)

        reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')
        kl_div = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())

        loss = reconst_loss + kl_div
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        train_loss += loss.item()
    print('Epoch {}: average loss {:.4f}'.format(epoch + 1, train_loss / len(loader.dataset)))

    with torch.no_grad():
        z = torch.randn(batch_size, z_dim)
        samples = model.decode(z).view(-1, 1, 8, 8)
        print('sample mean {:.4f}'.format(samples.mean().item()))
