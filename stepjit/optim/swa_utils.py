"""`optim.swa_utils`: stochastic weight averaging and EMA of a model's parameters
(AveragedModel), the SWA learning-rate schedule (SWALR) and the BatchNorm statistics
refresh for an averaged model (update_bn), with PyTorch's update rules.

AveragedModel's default average is PyTorch's CPU one, `avg + (p - avg) / (n + 1)` with
`n_averaged` an int64 buffer; the EMA helpers are `lerp`s. The averages are in-place
writes under no_grad, so an `update_parameters` call inside a compiled step is a set of
buffer and parameter updates written back after the call (its first call, which copies the
model, reads `n_averaged == 0`: a decision the trace guards).
"""
from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy

from ..autograd.grad_mode import no_grad
from ..ir.types import int64
from ..ops.creation import tensor
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """ema <- ema + (1 - decay) * (p - ema), for lists of tensors, in place."""
    _check_decay(decay)

    def ema_update(ema_params, current_params, num_averaged):
        with no_grad():
            for ema, p in zip(ema_params, current_params):
                if ema.is_floating_point():
                    ema.lerp_(p, 1 - decay)
                else:
                    ema.copy_(ema * decay + p * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """avg <- avg + (p - avg) / (n + 1), for lists of tensors, in place."""
    def swa_update(averaged_params, current_params, num_averaged):
        with no_grad():
            for avg, p in zip(averaged_params, current_params):
                avg.copy_(avg + (p - avg) / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A deep copy of `model` whose parameters (and, with use_buffers=True, buffers) are the
    running average of the model's, updated by `update_parameters(model)`."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        if self.use_buffers:
            return list(itertools.chain(model.parameters(), model.buffers()))
        return list(model.parameters())

    def update_parameters(self, model):
        ours = [p.detach() for p in (self._tensors(self.module) if self.use_buffers
                                     else self.parameters())]
        theirs = [p.detach().to(a.device) for a, p in zip(ours, self._tensors(model))]
        ours = ours[:len(theirs)]
        with no_grad():
            if bool(self.n_averaged == 0):
                for a, p in zip(ours, theirs):
                    a.copy_(p)
            else:
                self._average(ours, theirs)
            if not self.use_buffers:
                for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                    b_avg.detach().copy_(b_model.detach().to(b_avg.device))
            self.n_averaged.add_(1)

    def _average(self, ours, theirs):
        n = self.n_averaged
        if self.multi_avg_fn is not None:
            self.multi_avg_fn(ours, theirs, n)
        elif self.avg_fn is not None:
            for a, p in zip(ours, theirs):
                a.copy_(self.avg_fn(a, p, n))
        else:
            get_swa_multi_avg_fn()(ours, theirs, n)


def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running statistics as the plain average over one pass of
    `loader` (the averaged weights' statistics), leaving model's train/eval mode as it was."""
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its value to `swa_lr` over `anneal_epochs` steps (cosine
    or linear), then holds it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, strategy):
        self._anneal_strategy = strategy
        self.anneal_func = self._cosine_anneal if strategy == "cos" else self._linear_anneal

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
