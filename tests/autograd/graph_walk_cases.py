"""The backward graphs users print (`loss.grad_fn.next_functions[0][0]...`), for the ops PyTorch
shows as one node though stepjit builds them from several primitives: `shapes(T)` walks each
from its grad_fn, three levels deep, by node type name. Recorded by
tests/fixtures/record_graph_walk.py."""


def walk(node, depth=0):
    if node is None:
        return None
    if depth == 3:
        return type(node).__name__
    return [type(node).__name__, [walk(n, depth + 1) for n, _ in node.next_functions]]


def shapes(T):
    F = T.nn.functional
    T.manual_seed(0)
    x = T.randn(4, 3, requires_grad=True)
    lin, norm = T.nn.Linear(3, 5), T.nn.LayerNorm(3)
    y = T.tensor([0, 1, 2, 1])
    t = T.rand(4, 5)
    cases = {
        "mean": lambda: x.mean(), "mean_dim": lambda: x.mean(1),
        "softmax": lambda: F.softmax(x, -1), "log_softmax": lambda: F.log_softmax(x, 1),
        "linear": lambda: lin(x), "mse": lambda: F.mse_loss(lin(x), t),
        "mse_module": lambda: T.nn.MSELoss()(lin(x), t), "l1": lambda: F.l1_loss(lin(x), t),
        "cross_entropy": lambda: F.cross_entropy(lin(x), y),
        "nll": lambda: F.nll_loss(F.log_softmax(lin(x), 1), y),
        "bce_logits": lambda: F.binary_cross_entropy_with_logits(lin(x), t),
        "bce": lambda: F.binary_cross_entropy(lin(x).sigmoid(), t),
        "var": lambda: x.var(), "std": lambda: x.std(1), "norm": lambda: x.norm(),
        "logsumexp": lambda: x.logsumexp(1), "layer_norm": lambda: norm(x),
        "layer_norm_plain": lambda: F.layer_norm(x, (3,)), "gelu": lambda: F.gelu(x),
        "silu": lambda: F.silu(x), "softplus": lambda: F.softplus(x),
        "leaky_relu": lambda: F.leaky_relu(x), "stack": lambda: T.stack([x, x * 2]),
        "embedding": lambda: T.nn.Embedding(5, 3)(y), "mlp": lambda: F.relu(lin(x)).sum(),
    }
    return {name: walk(make().grad_fn) for name, make in cases.items()}
