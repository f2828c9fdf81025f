"""PyTorch reference for the gradient baselines (issue 3): the thesis's PyTorch set-up on
784-256-256-10, timed per epoch, test accuracy after every epoch. Not part of the product or
of the tests; bench/bench-pytorch.sh runs it with Debian's python3-torch (PyTorch 1.13).

  python3 pytorch_mnist.py DATA_DIR METHOD SEED EPOCHS THREADS [INIT]
  METHOD: gd (SGD lr 0.01, batch 128) | sgd (lr 0.01, batch 1) | momentum (0.9, lr 0.01,
          batch 128) | adam (lr 1e-3, batch 128);  INIT: pytorch (nn.Linear's default) | he
Inputs: pixel/255 normalised with MNIST's 0.1307, 0.3081 (thesis section 3.3.1)."""
import struct
import sys
import time

import torch
import torch.nn as nn


def read_idx(path):
    raw = open(path, 'rb').read()
    dims = struct.unpack('>' + 'I' * raw[3], raw[4:4 + 4 * raw[3]])
    return torch.frombuffer(bytearray(raw[4 + 4 * raw[3]:]), dtype=torch.uint8).reshape(dims)


def load(data, images, labels):
    x = read_idx(f'{data}/{images}').reshape(-1, 784).float() / 255.0
    return (x - 0.1307) / 0.3081, read_idx(f'{data}/{labels}').long()


def main():
    data, method, seed, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    init = sys.argv[6] if len(sys.argv) > 6 else 'pytorch'
    xtr, ytr = load(data, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte')
    xte, yte = load(data, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    if init == 'he':  # as admm-train --init he: N(0, 2/fan_in), zero biases
        for layer in net:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')
                nn.init.zeros_(layer.bias)
    if method == 'adam':
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9 if method == 'momentum' else 0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr),
                                         batch_size=1 if method == 'sgd' else 128, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
        seconds = time.perf_counter() - t0
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        print(f'method={method} init={init} seed={seed} threads={threads} epoch={epoch} '
              f't_epoch={seconds:.3f} test_acc={acc:.4f}', flush=True)


if __name__ == '__main__':
    main()
