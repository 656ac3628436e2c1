"""mobilenet_v1.py - MobileNet V1 (Howard et al. 2017, Table 1) in PyTorch: mnet's own definition.

State-dict naming (what tools/mnet_convert.py reads):
    features.0.0.weight            stem 3x3 conv, stride 2        [ch(32), 3, 3, 3]
    features.0.1.*                 its BatchNorm (weight, bias, running_mean, running_var)
    features.{2k+1}.0.weight       block k depthwise 3x3          [c, 1, 3, 3]
    features.{2k+1}.1.*            its BatchNorm
    features.{2k+2}.0.weight       block k pointwise 1x1          [c', c, 1, 1]
    features.{2k+2}.1.*            its BatchNorm
    classifier.weight / .bias      fully connected                [classes, ch(1024)]
for k = 0..12.  Channels ch(c) = max(int(c * alpha), 8) as in TF-slim.  The activation is
ReLU6 (TensorFlow's implementation) or ReLU (the paper).  padding="symmetric" pads every 3x3
by 1 on all sides (PyTorch); padding="same" reproduces TensorFlow's 'SAME' (stride-2 layers
pad only bottom/right when the input is even).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mnet_format import V1_BLOCKS, same_pads, v1_channels


class SamePad(nn.Module):
    """Zero padding computed like TensorFlow's 'SAME' for a 3x3 window."""

    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        # int(): the amounts are constants of the input size, so an ONNX export (traced at a
        # fixed size) records a plain Pad node instead of shape arithmetic.
        top, bottom = same_pads(int(x.shape[2]), self.stride)
        left, right = same_pads(int(x.shape[3]), self.stride)
        return F.pad(x, (left, right, top, bottom))


class ConvBN(nn.Module):
    """Conv (no bias) -> BatchNorm -> activation, as children "0", "1", "2"."""

    def __init__(self, cin, cout, k, stride, groups, act, padding):
        super().__init__()
        same = padding == "same" and k == 3
        self.add_module("0", nn.Conv2d(cin, cout, k, stride, padding=0 if same or k == 1 else 1,
                                       groups=groups, bias=False))
        self.add_module("1", nn.BatchNorm2d(cout))
        self.add_module("2", nn.ReLU6() if act == "relu6" else nn.ReLU())
        self.same = SamePad(stride) if same else None

    def forward(self, x):
        if self.same is not None:
            x = self.same(x)
        for i in range(3):
            x = self._modules[str(i)](x)
        return x


class MobileNetV1(nn.Module):
    def __init__(self, alpha=1.0, num_classes=1000, act="relu6", padding="symmetric",
                 in_channels=3):
        super().__init__()
        c = v1_channels(32, alpha)
        layers = [ConvBN(in_channels, c, 3, 2, 1, act, padding)]
        for cout, stride in V1_BLOCKS:
            layers.append(ConvBN(c, c, 3, stride, c, act, padding))
            layers.append(ConvBN(c, v1_channels(cout, alpha), 1, 1, 1, act, padding))
            c = v1_channels(cout, alpha)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)
        self.alpha, self.act, self.padding = alpha, act, padding

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
