# Written for stepjit's test corpus in the style of the common fully connected GAN tutorials:
# a discriminator (Linear, LeakyReLU, Sigmoid) and a generator (Linear, ReLU, Tanh), BCELoss
# against ones and zeros, two Adam optimizers, a reset_grad helper, the discriminator trained
# on real and detached fake samples, then the generator. Synthetic "images" in [-1, 1].
import stepjit as torch
import stepjit.nn as nn

latent_size = 8
hidden_size = 32
image_size = 36
num_epochs = 2
batch_size = 8

real_data = torch.rand(32, image_size) * 2 - 1
data_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(real_data),
                                          batch_size=batch_size, shuffle=True, drop_last=True)

D = nn.Sequential(
    nn.Linear(image_size, hidden_size),
    nn.LeakyReLU(0.2),
    nn.Linear(hidden_size, hidden_size),
    nn.LeakyReLU(0.2),
    nn.Linear(hidden_size, 1),
    nn.Sigmoid())

G = nn.Sequential(
    nn.Linear(latent_size, hidden_size),
    nn.ReLU(),
    nn.Linear(hidden_size, hidden_size),
    nn.ReLU(),
    nn.Linear(hidden_size, image_size),
    nn.Tanh())

criterion = nn.BCELoss()
d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)


def reset_grad():
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()


for epoch in range(num_epochs):
    for i, (images,) in enumerate(data_loader):
        real_labels = torch.ones(batch_size, 1)
        fake_labels = torch.zeros(batch_size, 1)

        outputs = D(images)
        d_loss_real = criterion(outputs, real_labels)
        real_score = outputs

        z = torch.randn(batch_size, latent_size)
        fake_images = G(z)
        outputs = D(fake_images.detach())
        d_loss_fake = criterion(outputs, fake_labels)
        fake_score = outputs

        d_loss = d_loss_real + d_loss_fake
        reset_grad()
        d_loss.backward()
        d_optimizer.step()

        z = torch.randn(batch_size, latent_size)
        fake_images = G(z)
        outputs = D(fake_images)
        g_loss = criterion(outputs, real_labels)

        reset_grad()
        g_loss.backward()
        g_optimizer.step()

    print('Epoch [{}/{}], d_loss: {:.4f}, g_loss: {:.4f}, D(x): {:.2f}, D(G(z)): {:.2f}'
          .format(epoch, num_epochs, d_loss.item(), g_loss.item(),
                  real_score.mean().item(), fake_score.mean().item()))
