"""The JAX autodiff tutorial's logistic regression, in NumPy, on autodiff_ast.

Run it with `python examples/logistic_regression.py`. The gradients are
plain NumPy functions generated from `loss`'s source; the numbers in the
comments are what JAX prints for the same float32 inputs.
"""

import numpy as np

import autodiff_ast as ad


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def predict(W, b, inputs):
    return sigmoid(np.dot(inputs, W) + b)


inputs = np.array([[0.52, 1.12,  0.77],
                   [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30],
                   [0.74, -2.49, 1.39]], dtype=np.float32)
targets = np.array([True, True, False, True])


def loss(W, b):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def loss2(params):
    preds = predict(params['W'], params['b'], inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


W = np.array([-0.36838785, -2.275689, 0.011447566], dtype=np.float32)
b = np.float32(0.8535516)


def main():
    print("W_grad", ad.grad(loss, argnums=0)(W, b))  # [-0.16965583 -0.8774644  -1.4901346 ]
    print("W_grad", ad.grad(loss)(W, b))             # same
    print("b_grad", ad.grad(loss, 1)(W, b))          # -0.29227245
    W_grad, b_grad = ad.grad(loss, (0, 1))(W, b)
    print("W_grad", W_grad)
    print("b_grad", b_grad)
    print(ad.grad(loss2)({'W': W, 'b': b}))
    loss_value, Wb_grad = ad.value_and_grad(loss, (0, 1))(W, b)
    print("loss value", loss_value)                  # 3.0519388
    print("loss value", loss(W, b))
    print()
    print("# The generated gradient, as source:")
    print(ad.source(ad.value_and_grad(loss, (0, 1)), W, b))


if __name__ == "__main__":
    main()
