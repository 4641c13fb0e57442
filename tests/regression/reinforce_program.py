"""A REINFORCE agent on a tiny synthetic task, written in the style of pytorch/examples'
reinforcement_learning/reinforce.py: a policy network with dropout and a softmax head, a
Categorical over its probabilities, log-probabilities saved while acting, discounted returns
normalized with eps = np.finfo(np.float32).eps.item(), Adam on the summed policy loss.

`T` is the torch-shaped module (stepjit, or torch when recording). The environment is a
line of cells: the agent starts in the middle, moves left or right for a fixed number of
steps and is paid 1 for every step it ends on the rightmost cell (0.1 for the cell before
it). Observations are a one-hot cell plus a bias feature, made with NumPy.
"""
import numpy as np

CELLS, HORIZON, GAMMA = 5, 8, 0.9


class Corridor:
    def reset(self):
        self.pos, self.t = CELLS // 2, 0
        return self._obs()

    def _obs(self):
        obs = np.zeros(CELLS + 1, dtype=np.float32)
        obs[self.pos], obs[-1] = 1.0, 1.0
        return obs

    def step(self, action):
        self.pos = min(max(self.pos + (1 if action == 1 else -1), 0), CELLS - 1)
        self.t += 1
        reward = 1.0 if self.pos == CELLS - 1 else 0.1 if self.pos == CELLS - 2 else 0.0
        return self._obs(), reward, self.t >= HORIZON


def make_policy(T):
    class Policy(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = T.nn.Linear(CELLS + 1, 16)
            self.dropout = T.nn.Dropout(p=0.3)
            self.affine2 = T.nn.Linear(16, 2)
            self.saved_log_probs = []
            self.rewards = []

        def forward(self, x):
            x = T.relu(self.dropout(self.affine1(x)))
            return T.nn.functional.softmax(self.affine2(x), dim=1)

    return Policy()


def select_action(T, policy, state):
    state = T.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = T.distributions.Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def normalized_returns(T, rewards):
    eps = np.finfo(np.float32).eps.item()
    R, returns = 0.0, []
    for r in rewards[::-1]:
        R = r + GAMMA * R
        returns.insert(0, R)
    returns = T.tensor(returns)
    return (returns - returns.mean()) / (returns.std() + eps)


def finish_episode(T, policy, optimizer):
    returns = normalized_returns(T, policy.rewards)
    policy_loss = [-log_prob * R for log_prob, R in zip(policy.saved_log_probs, returns)]
    optimizer.zero_grad()
    policy_loss = T.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]
    return policy_loss.item()


def main(T, episodes=12, seed=543):
    """Per-episode (policy loss, total reward), eagerly, as the example trains."""
    T.manual_seed(seed)
    policy = make_policy(T)
    optimizer = T.optim.Adam(policy.parameters(), lr=1e-2)
    env, history = Corridor(), []
    for _ in range(episodes):
        state, done, total = env.reset(), False, 0.0
        while not done:
            action = select_action(T, policy, state)
            state, reward, done = env.step(action)
            policy.rewards.append(reward)
            total += reward
        history.append((finish_episode(T, policy, optimizer), total))
    return history


def policy_update(T, policy, optimizer, states, actions, returns):
    """The same policy-gradient update over one episode at once (fixed horizon: one shape),
    the form a compiled training step takes."""
    m = T.distributions.Categorical(policy(states))
    loss = -(m.log_prob(actions) * returns).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def main_batched(T, update, episodes=6, seed=7):
    """Act without gradients, then `update(policy, optimizer, states, actions, returns)`."""
    T.manual_seed(seed)
    policy = make_policy(T)
    optimizer = T.optim.Adam(policy.parameters(), lr=1e-2)
    env, losses, all_actions = Corridor(), [], []
    for _ in range(episodes):
        state, done, states, actions, rewards = env.reset(), False, [], [], []
        while not done:
            with T.no_grad():
                probs = policy(T.from_numpy(state).unsqueeze(0))
                action = T.distributions.Categorical(probs).sample().item()
            states.append(state)
            actions.append(action)
            state, reward, done = env.step(action)
            rewards.append(reward)
        losses.append(update(policy, optimizer, T.from_numpy(np.stack(states)),
                             T.tensor(actions), normalized_returns(T, rewards)).item())
        all_actions.append(actions)
    return losses, all_actions, [p.detach().numpy().copy() for p in policy.parameters()]
