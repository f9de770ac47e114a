"""Fit the JAX tutorial's logistic regression by Newton's method.

Run it with `python examples/newton.py`. The gradient and the Hessian are
plain NumPy functions generated from `loss`'s source; the Hessian comes out
in matrix form, X.T @ (X * w[:, None]), without a loop over the weights.
"""

import numpy as np

import autodiff_ast as ad

rng = np.random.default_rng(0)
inputs = rng.normal(size=(500, 3))
targets = inputs @ np.array([1.5, -2.0, 0.5]) + rng.normal(size=500) > 0


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def loss(W, b):
    preds = sigmoid(np.dot(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def main():
    gradient = ad.grad(loss, (0, 1))
    hessian = ad.hessian(loss, (0, 1))
    W, b = np.zeros(3), 0.0
    for step in range(6):
        (g_W, g_b), ((H_WW, H_Wb), (H_bW, H_bb)) = (gradient(W, b),
                                                    hessian(W, b))
        # one Newton step on (W, b) together: solve H @ delta = g
        H = np.block([[H_WW, H_Wb[:, None]], [H_bW[None, :], H_bb]])
        delta = np.linalg.solve(H, np.append(g_W, g_b))
        W, b = W - delta[:3], b - delta[3]
        print(f"step {step}: loss {loss(W, b):.10f}")
    print("W", W, "b", b)
    print()
    print("# The generated Hessian with respect to W, as source:")
    print(ad.source(ad.hessian(loss), W, b))


if __name__ == "__main__":
    main()
