"""Optimizers: they apply gradients that the layers computed; layers never update themselves."""
import numpy as np


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum.

    velocity = momentum * velocity - lr * grad;  param += velocity
    With momentum 0 this is the tutorial's plain update, param -= lr * grad.
    """

    def __init__(self, params, lr=0.01, momentum=0.0):
        self.params = params  # dict name -> array, updated in place
        self.lr = lr
        self.momentum = momentum
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads):
        for name, param in self.params.items():
            if self.momentum:
                velocity = self.velocity[name]
                velocity *= self.momentum
                velocity -= self.lr * grads[name]
                param += velocity
            else:
                param -= self.lr * grads[name]

    def reset(self):
        """Forget the momentum, e.g. after restoring earlier weights."""
        for velocity in self.velocity.values():
            velocity.fill(0)
