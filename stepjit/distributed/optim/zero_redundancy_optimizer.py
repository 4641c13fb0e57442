"""`ZeroRedundancyOptimizer` (ZeRO stage 1), as torch.distributed.optim has it.

Every rank holds every parameter but keeps optimizer state only for its own share of them:
each parameter group's parameters are dealt out, largest first, to the rank whose share is
smallest so far (PyTorch's partition, so a rank owns the same parameters under both). A step
runs the wrapped optimizer on the rank's share, then each parameter is broadcast from the
rank that owns it, so every rank ends the step with the same weights as one optimizer over
all of them would give (the gradients must already be averaged, by DDP or all_reduce).

`param_groups` lists every parameter, so `group['lr'] = ...` works as with any optimizer;
the hyperparameters are copied to the local optimizer before each step and back after it.
On one rank the broadcasts are skipped and a step is the wrapped optimizer's step, which a
compiled step traces like any other; on several ranks the broadcasts run eagerly (see
docs/distributed.md), so such a step runs outside `stepjit.compile`.
"""
from __future__ import annotations

from ...optim.optimizer import Optimizer
from ...ir.primitives import collective as C
from .. import broadcast


class ZeroRedundancyOptimizer(Optimizer):
    def __init__(self, params, optimizer_class, process_group=None,
                 parameters_as_bucket_view=False, overlap_with_ddp=False, **defaults):
        if overlap_with_ddp:
            raise NotImplementedError("ZeroRedundancyOptimizer(overlap_with_ddp=True) needs a DDP "
                                      "communication hook, which stepjit does not have; use "
                                      "overlap_with_ddp=False")
        group = C.world()        # raises PyTorch's message when no process group exists
        self.rank, self.world_size = group.rank, group.size
        self._optimizer_class = optimizer_class
        self._local_defaults = dict(defaults)
        self.optim = None
        self._owner = {}
        super().__init__(params, defaults)
        self._owner = self._partition()
        self.optim = optimizer_class(self._share(self.param_groups), **defaults)
        self._consolidated = None

    # -- which rank updates which parameter ------------------------------------------------
    def _partition(self):
        owner = {}
        for group in self.param_groups:
            sizes = [0] * self.world_size
            for p in sorted(group["params"], key=lambda t: t.numel(), reverse=True):
                rank = sizes.index(min(sizes))
                owner[id(p)] = rank
                sizes[rank] += p.numel()
        return owner

    def _share(self, groups):
        """This rank's part of `groups`: the same hyperparameters, only the parameters it owns."""
        return [dict(g, params=[p for p in g["params"] if self._owner[id(p)] == self.rank])
                for g in groups]

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        if self.optim is None:   # still in __init__: the partition is made once, after it
            return
        self._owner = self._partition()
        self.optim.add_param_group(self._share(self.param_groups[-1:])[0])

    # -- step ------------------------------------------------------------------------------
    def step(self, closure=None):
        self._copy_hyperparameters(self.param_groups, self.optim.param_groups)
        loss = self.optim.step(closure=closure)
        if self.world_size > 1:
            for group in self.param_groups:
                for p in group["params"]:
                    broadcast(p.data, src=self._owner[id(p)])
        self._copy_hyperparameters(self.optim.param_groups, self.param_groups)
        return loss

    @staticmethod
    def _copy_hyperparameters(source, target):
        for s, t in zip(source, target):
            for k, v in s.items():
                if k != "params":
                    t[k] = v

    # -- state_dict: gathered on one rank first, as PyTorch asks ---------------------------
    def consolidate_state_dict(self, to: int = 0) -> None:
        """Collect every rank's optimizer state on rank `to` (every rank must call it)."""
        local = self.optim.state_dict()
        index = self._local_index()
        mine = {index[k]: v for k, v in local["state"].items()}
        shares = C.world().allgather(mine) if self.world_size > 1 else [mine]
        self._consolidated = None
        if self.rank == to:
            state = {}
            for share in shares:
                state.update(share)
            self._consolidated = state

    def _local_index(self):
        """Position of each local parameter (as the local state_dict numbers them) in the
        numbering of the whole optimizer's state_dict."""
        whole = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        local = [p for g in self.optim.param_groups for p in g["params"]]
        return {k: whole[id(p)] for k, p in enumerate(local)}

    def state_dict(self):
        if self._consolidated is None:
            raise RuntimeError("Optimizer state has not been consolidated on this rank. Please "
                               "call `consolidate_state_dict(to=RANK)` on all ranks, then call "
                               "`state_dict()` on rank RANK")
        packed = super().state_dict()
        packed["state"] = {i: s for i, s in sorted(self._consolidated.items())}
        return packed

    def load_state_dict(self, state_dict):
        """Every rank loads the whole (consolidated) dict and keeps its own parameters' state."""
        if len(state_dict["param_groups"]) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        saved = state_dict["state"]
        state = {k: saved[i] for k, i in self._local_index().items() if i in saved}
        groups, start = [], 0
        for packed, group in zip(state_dict["param_groups"], self.optim.param_groups):
            n = len(group["params"])
            groups.append(dict(packed, params=list(range(start, start + n))))
            start += n
        self.optim.load_state_dict({"state": state, "param_groups": groups})
        self._copy_hyperparameters(self.optim.param_groups, self.param_groups)
