#!/usr/bin/python3
"""train_fashion_mnist.py - train the bundled model: torchvision MobileNet V2 (alpha 0.35) on
Fashion-MNIST at 32x32, on the CPU, then convert it and record PyTorch's own predictions.

    /usr/bin/python3 tools/train_fashion_mnist.py [--epochs N] [--out tools/fashion-mnist]

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).  Preprocessing is
exactly mnet_preprocess_u8's: the 28x28 gray image, as float, bilinearly resized to 32x32 with
half-pixel centres (align_corners=False), divided by 255, normalised with the data set's mean
and std, and fed to all three input channels.  Writes into --out:
    fashion_mnist_v2.mnet        the model (mnet format)
    fashion_mnist_v2.pt          the state_dict
    labels.txt                   class names
    torch_predictions.txt        PyTorch's class for each of the 10,000 test images
    images/*.png                 the first test image of every class
and prints the test accuracy.
"""
import argparse
import gzip
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530
RES, ALPHA = 32, 0.35


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def preprocess(u8):
    """[N, 28, 28] uint8 -> [N, 3, 32, 32] float32, as mnet_preprocess_u8 does it."""
    x = torch.from_numpy(u8).float().unsqueeze(1)
    x = F.interpolate(x, size=(RES, RES), mode="bilinear", align_corners=False)
    x = (x / 255.0 - MEAN) / STD
    return x.expand(-1, 3, -1, -1).contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default=os.path.join(HERE, "fashion-mnist"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    xte, yte = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
    Xtr, Ytr = preprocess(xtr), torch.from_numpy(ytr.astype(np.int64))
    Xte = preprocess(xte)

    model = torchvision.models.mobilenet_v2(width_mult=ALPHA, num_classes=10)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * (len(Xtr) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(Xtr))
        t0, seen, loss_sum = time.time(), 0, 0.0
        for i in range(0, len(Xtr) - 127, 128):
            idx = perm[i:i + 128]
            x = Xtr[idx]
            flip = torch.rand(len(idx)) < 0.5            # horizontal flips
            x[flip] = x[flip].flip(3)
            loss = F.cross_entropy(model(x), Ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / seen:.4f} ({time.time() - t0:.0f} s)",
              flush=True)

    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(Xte[i:i + 500]).argmax(1) for i in range(0, len(Xte), 500)]).numpy()
    acc = float((pred == yte).mean())
    print(f"PyTorch test accuracy: {acc * 100:.2f}%")

    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    pt = os.path.join(args.out, "fashion_mnist_v2.pt")
    torch.save(model.state_dict(), pt)
    subprocess.run([sys.executable, os.path.join(HERE, "mnet_convert.py"), pt,
                    os.path.join(args.out, "fashion_mnist_v2.mnet"), "--resolution", str(RES),
                    "--mean", str(MEAN), str(MEAN), str(MEAN), "--std", str(STD), str(STD), str(STD)],
                   check=True)
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    np.savetxt(os.path.join(args.out, "torch_predictions.txt"), pred, fmt="%d")
    from PIL import Image
    for c in range(10):
        i = int(np.argmax(yte == c))
        name = LABELS[c].lower().replace("/", "-").replace(" ", "-")
        Image.fromarray(xte[i]).save(os.path.join(args.out, "images", f"{c}-{name}.png"))


if __name__ == "__main__":
    main()
