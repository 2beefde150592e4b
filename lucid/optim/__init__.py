"""Optimisers and learning-rate schedules with PyTorch's interface and update rules.

Example:
    >>> import lucid
    >>> from lucid import optim
    >>> w = lucid.tensor([3.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.25)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...     sched.step()
    >>> round(w.item(), 4)
    0.9844
"""

from lucid.optim import lr_scheduler
from lucid.optim.adagrad import Adagrad
from lucid.optim.adam import Adam, AdamW
from lucid.optim.lbfgs import LBFGS
from lucid.optim.optimizer import Optimizer, flatten_state_dict, unflatten_state_dict
from lucid.optim.rmsprop import RMSprop
from lucid.optim.sgd import SGD

__all__ = [
    "LBFGS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "flatten_state_dict",
    "lr_scheduler",
    "unflatten_state_dict",
]
