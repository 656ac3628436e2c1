#!/usr/bin/python3
"""mnet_convert.py - convert MobileNet V1/V2 weights to an mnet model file (docs/FORMAT.md).

    mnet_convert.py INPUT OUTPUT [--arch v1|v2] [--width-mult A] [--resolution R]
                    [--activation relu6|relu] [--padding symmetric|same]
                    [--mean M M M] [--std S S S]

INPUT is one of
  * a PyTorch state_dict (.pt / .pth): torchvision's mobilenet_v2(width_mult=A, num_classes=N)
    as it is, or tools/mobilenet_v1.py's MobileNetV1 (naming documented there);
  * an ONNX file of V1 or V2 as torch.onnx.export writes it: BatchNormalization kept or already
    folded into Conv, ReLU6 as Clip, Pad nodes for TensorFlow-style padding, a Gemm or MatMul
    head.  Architecture, width multiplier, classes, input size, activation and padding are
    read from the graph.
Anything that does not fit is refused with a message naming the key or node.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnet_format as fmt  # noqa: E402


class ConvertError(Exception):
    pass


# ------------------------------------------------------------------ generic layer records
def new_layer(name, w, b=None):
    return dict(name=name, w=np.asarray(w, np.float32), b=None if b is None else np.asarray(b, np.float32),
                bn=None, eps=None, act=None, res=False, stride=1, group=1, pads=(0, 0, 0, 0))


def classify_layer(l):
    w = l["w"]
    if w.ndim == 2:
        return "fc"
    cout, cin_g, kh, kw = w.shape
    if (kh, kw) == (1, 1) and l["group"] == 1:
        return "pw"
    if (kh, kw) == (3, 3) and l["group"] == 1:
        return "conv3x3"
    if (kh, kw) == (3, 3) and cin_g == 1 and l["group"] == cout:
        return "dw"
    raise ConvertError(f"{l['name']}: a {kh}x{kw} convolution with group {l['group']} is not a "
                       "MobileNet V1/V2 layer")


def assemble(recs, arch, alpha, height, width, act, padding, mean, std, out):
    """Check the records against the architecture and write the file."""
    if not recs or classify_layer(recs[-1]) != "fc":
        raise ConvertError("the model does not end in a fully connected classifier")
    channels = recs[0]["w"].shape[1]
    classes = recs[-1]["w"].shape[0]
    sig = [r["w"].shape[0] for r in recs]
    if arch is None:
        arch = fmt.ARCH_V2 if len(recs) == len(fmt.layers(fmt.ARCH_V2, 1.0)) else \
            fmt.ARCH_V1 if len(recs) == len(fmt.layers(fmt.ARCH_V1, 1.0)) else None
        if arch is None:
            raise ConvertError(f"{len(recs)} layers: neither MobileNet V1 (28) nor V2 (53)")
    if alpha is None:
        alpha = fmt.infer_alpha(arch, sig, channels, classes)
        if alpha is None:
            raise ConvertError(f"no width multiplier gives the channel counts {sig[:4]}... of "
                               f"MobileNet V{arch}")
    want = fmt.layers(arch, alpha, channels, classes)
    if len(want) != len(recs):
        raise ConvertError(f"{len(recs)} layers, MobileNet V{arch} has {len(want)}")
    eps = {r["eps"] for r in recs if r["bn"] is not None}
    tensors = []
    for i, (r, l) in enumerate(zip(recs, want)):
        kind = classify_layer(r)
        if kind != l["op"] or tuple(r["w"].shape) != fmt.weight_shape(l):
            raise ConvertError(f"{r['name']}: {kind} {tuple(r['w'].shape)} where MobileNet V{arch} "
                               f"alpha {alpha} has {l['op']} {fmt.weight_shape(l)} (layer {i})")
        if r["stride"] != l["stride"]:
            raise ConvertError(f"{r['name']}: stride {r['stride']}, expected {l['stride']}")
        if r["act"] is not None and r["act"] != act and l["act"]:
            raise ConvertError(f"{r['name']}: activation {r['act']} differs from the model's {act}")
        if l["act"] and r["act"] is None and act is not None:
            raise ConvertError(f"{r['name']}: expected an activation after layer {i}")
        if not l["act"] and r["act"] is not None:
            raise ConvertError(f"{r['name']}: layer {i} must be linear but has {r['act']}")
        if r["res"] != l["res"]:
            raise ConvertError(f"{r['name']}: residual add {'present' if r['res'] else 'missing'}"
                               f" at layer {i}")
        bn = r["bn"]
        b = r["b"]
        if bn is not None and len(eps) > 1:   # several epsilons: fold here, exactly
            g, beta, mu, var = (np.asarray(a, np.float64) for a in bn)
            scale = g / np.sqrt(var + r["eps"])
            w = r["w"].astype(np.float64) * scale.reshape((-1,) + (1,) * (r["w"].ndim - 1))
            b = ((b if b is not None else 0.0) - mu) * scale + beta
            r = dict(r, w=w.astype(np.float32))
            bn = None
        for name, arr in fmt.layer_tensors(i, l, r["w"], b, bn):
            tensors.append((name, fmt.check_finite(name, arr)))
    h, w_ = height, width
    fmt.write_model(out, arch, alpha, h, w_, channels, classes, tensors,
                    act=fmt.ACT_RELU if act == "relu" else fmt.ACT_RELU6, padding=padding,
                    mean=mean, std=std, eps=float(eps.pop()) if len(eps) == 1 else 1e-5)
    return arch, alpha, classes


# ------------------------------------------------------------------ PyTorch state_dicts
def from_state_dict(sd):
    """Modules in registration order: conv -> optional BatchNorm, then the linear head."""
    groups = {}
    for key, val in sd.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = val.detach().cpu().numpy() if hasattr(val, "detach") \
            else np.asarray(val)
    recs = []
    for prefix, p in groups.items():
        if "running_mean" in p:
            if not recs or recs[-1]["bn"] is not None or recs[-1]["w"].ndim != 4:
                raise ConvertError(f"{prefix}: a BatchNorm that follows no convolution")
            if p["running_mean"].shape[0] != recs[-1]["w"].shape[0]:
                raise ConvertError(f"{prefix}: BatchNorm of {p['running_mean'].shape[0]} channels "
                                   f"after a {recs[-1]['w'].shape[0]}-channel convolution")
            recs[-1]["bn"] = (p["weight"], p["bias"], p["running_mean"], p["running_var"])
            recs[-1]["eps"] = 1e-5   # nn.BatchNorm2d's default, as torchvision uses
        elif "weight" in p and p["weight"].ndim in (2, 4):
            r = new_layer(prefix, p["weight"], p.get("bias"))
            if r["w"].ndim == 4:
                cout, cin_g = r["w"].shape[:2]
                prev = recs[-1]["w"].shape[0] if recs else None
                r["group"] = prev if (cin_g == 1 and prev == cout and r["w"].shape[2] == 3) else 1
            recs.append(r)
        else:
            raise ConvertError(f"{prefix}: unsupported parameters {sorted(p)}")
    # Strides and activations are not in a state_dict: take them from the architecture.
    return recs


def convert_state_dict(path, args):
    import torch
    obj = torch.load(path, map_location="cpu")
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConvertError(f"{path}: not a state_dict")
    recs = from_state_dict(obj)
    arch = {"v1": fmt.ARCH_V1, "v2": fmt.ARCH_V2, None: None}[args.arch]
    if arch is None:
        arch = fmt.ARCH_V2 if any(".conv." in k for k in obj) else fmt.ARCH_V1
    alpha = args.width_mult
    channels = recs[0]["w"].shape[1]
    if alpha is None:
        alpha = fmt.infer_alpha(arch, [r["w"].shape[0] for r in recs], channels, recs[-1]["w"].shape[0])
        if alpha is None:
            raise ConvertError(f"{path}: no width multiplier reproduces these channel counts")
    want = fmt.layers(arch, alpha, channels, recs[-1]["w"].shape[0])
    act = args.activation or "relu6"
    for r, l in zip(recs, want):
        r["stride"], r["res"] = l["stride"], l["res"]
        r["act"] = act if l["act"] else None
    res = args.resolution or 224
    pad = fmt.PAD_TF_SAME if args.padding == "same" else fmt.PAD_SYMMETRIC
    return assemble(recs, arch, alpha, res, res, act, pad, args.mean, args.std, args.output)


# ------------------------------------------------------------------ ONNX graphs
FOLDABLE = {"Transpose", "ConstantOfShape", "Concat", "Reshape", "Slice", "Cast", "Unsqueeze",
            "Squeeze", "Gather"}


def fold_constant(node, x, attr):
    """Evaluate one shape/constant op whose inputs are all constants (exporters leave these in,
    e.g. the pads of a Pad node or a transposed classifier weight)."""
    op = node.op_type
    if op == "Transpose":
        return np.transpose(x[0], attr(node, "perm"))
    if op == "ConstantOfShape":
        v = attr(node, "value")
        from onnx import numpy_helper
        fill = numpy_helper.to_array(v).reshape(-1)[0] if v is not None else np.float32(0)
        return np.full(x[0].astype(np.int64), fill)
    if op == "Concat":
        return np.concatenate(x, axis=attr(node, "axis"))
    if op == "Reshape":
        shape = [d if d != 0 else x[0].shape[i] for i, d in enumerate(x[1].tolist())]
        return x[0].reshape(shape)
    if op == "Slice":
        starts, ends = x[1].tolist(), x[2].tolist()
        axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
        steps = x[4].tolist() if len(x) > 4 and x[4] is not None else [1] * len(starts)
        sl = [slice(None)] * x[0].ndim
        for a, b, e, st in zip(axes, starts, ends, steps):
            sl[a] = slice(b, e, st)
        return x[0][tuple(sl)]
    if op == "Cast":
        from onnx import mapping   # onnx 1.12: TENSOR_TYPE_TO_NP_TYPE
        return x[0].astype(mapping.TENSOR_TYPE_TO_NP_TYPE[attr(node, "to")])
    if op == "Unsqueeze":
        axes = x[1].tolist() if len(x) > 1 else attr(node, "axes")
        out = x[0]
        for a in sorted(int(a) % (out.ndim + len(axes)) for a in axes):
            out = np.expand_dims(out, a)
        return out
    if op == "Squeeze":
        axes = x[1].tolist() if len(x) > 1 and x[1] is not None else attr(node, "axes")
        return np.squeeze(x[0], axis=tuple(axes) if axes is not None else None)
    if op == "Gather":
        return np.take(x[0], x[1], axis=attr(node, "axis", 0))
    raise ConvertError(f"node '{node.name}' ({op}): cannot fold")


def convert_onnx(path, args):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1:
        raise ConvertError(f"{path}: {len(inputs)} graph inputs, expected one image input")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4:
        raise ConvertError(f"input '{inputs[0].name}' has rank {len(dims)}, expected NCHW")
    height, width = dims[2] or args.resolution, dims[3] or args.resolution
    if args.resolution and (dims[2], dims[3]) != (args.resolution, args.resolution) and dims[2]:
        height = width = args.resolution   # the graph is fully convolutional: any size works
    if not height or not width:
        raise ConvertError("the input size is dynamic: give --resolution")

    def attr(node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def const(name, node):
        if name not in consts:
            raise ConvertError(f"node '{node.name}' ({node.op_type}): input '{name}' is not a constant")
        return consts[name]

    # What each tensor is: ("input",), ("pad", source, pads), ("layer", i), ("pool",), ("fc",)
    val = {inputs[0].name: ("input",)}
    recs = []
    for node in g.node:
        op, ins, outs = node.op_type, list(node.input), list(node.output)
        where = f"node '{node.name or outs[0]}' ({op})"
        if op == "Constant":
            consts[outs[0]] = numpy_helper.to_array(attr(node, "value"))
            continue
        if op in ("Identity", "Dropout"):
            val[outs[0]] = val.get(ins[0], ("?",))
            if ins[0] in consts:
                consts[outs[0]] = consts[ins[0]]
            continue
        if ins and all(not n or n in consts for n in ins) and op in FOLDABLE:
            consts[outs[0]] = fold_constant(node, [consts.get(n) for n in ins], attr)
            continue
        src = val.get(ins[0]) if ins else None
        if op == "Pad":
            mode = attr(node, "mode", b"constant")
            pads = attr(node, "pads") if len(ins) < 2 else const(ins[1], node).tolist()
            cval = const(ins[2], node) if len(ins) > 2 and ins[2] else 0.0
            if mode not in (b"constant", "constant") or float(np.asarray(cval).reshape(-1)[0] if np.size(cval) else 0) != 0.0 \
                    or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
                raise ConvertError(f"{where}: only zero padding of H and W is supported")
            val[outs[0]] = ("pad", ins[0], (pads[2], pads[3], pads[6], pads[7]))
            continue
        if op == "Conv":
            pads = (0, 0, 0, 0)
            if src and src[0] == "pad":
                pads, src = src[2], val.get(src[1])
            if not src or src[0] not in ("input", "layer"):
                raise ConvertError(f"{where}: its input is not an image or a layer output")
            if [d for d in (attr(node, "dilations") or [1, 1])] != [1, 1]:
                raise ConvertError(f"{where}: dilated convolutions are not supported")
            if attr(node, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ConvertError(f"{where}: auto_pad is not supported")
            p = attr(node, "pads") or [0, 0, 0, 0]
            strides = attr(node, "strides") or [1, 1]
            if strides[0] != strides[1]:
                raise ConvertError(f"{where}: unequal strides {strides}")
            r = new_layer(where, const(ins[1], node), const(ins[2], node) if len(ins) > 2 and ins[2] else None)
            r["group"] = attr(node, "group", 1)
            r["stride"] = strides[0]
            r["pads"] = (pads[0] + p[0], pads[1] + p[1], pads[2] + p[2], pads[3] + p[3])
            recs.append(r)
            val[outs[0]] = ("layer", len(recs) - 1, "conv")
            continue
        if op == "BatchNormalization":
            if not src or src[0] != "layer" or src[2] != "conv" or recs[src[1]]["bn"] is not None:
                raise ConvertError(f"{where}: BatchNorm must directly follow a convolution")
            r = recs[src[1]]
            r["bn"] = tuple(const(n, node) for n in ins[1:5])
            r["eps"] = float(attr(node, "epsilon", 1e-5))
            val[outs[0]] = ("layer", src[1], "bn")
            continue
        if op in ("Relu", "Clip"):
            if not src or src[0] != "layer" or recs[src[1]]["act"] is not None:
                raise ConvertError(f"{where}: an activation must follow a convolution (+ BatchNorm)")
            kind = "relu"
            if op == "Clip":
                lo = attr(node, "min") if len(ins) < 2 else (const(ins[1], node) if ins[1] else None)
                hi = attr(node, "max") if len(ins) < 3 else (const(ins[2], node) if ins[2] else None)
                if lo is None or hi is None or float(lo) != 0.0 or float(hi) != 6.0:
                    raise ConvertError(f"{where}: only Clip(0, 6) (ReLU6) is supported")
                kind = "relu6"
            recs[src[1]]["act"] = kind
            val[outs[0]] = ("layer", src[1], "act")
            continue
        if op == "Add":
            a, b = val.get(ins[0]), val.get(ins[1])
            if src and src[0] == "fc" or (b and b[0] == "fc"):
                fc = recs[-1]
                bias = const(ins[1] if a and a[0] == "fc" else ins[0], node)
                if fc["b"] is not None:
                    raise ConvertError(f"{where}: a second bias on the classifier")
                fc["b"] = np.asarray(bias, np.float32).reshape(-1)
                val[outs[0]] = ("fc",)
                continue
            if not (a and b and a[0] == "layer" and b[0] in ("layer", "input")) and \
                    not (a and b and b[0] == "layer" and a[0] in ("layer", "input")):
                raise ConvertError(f"{where}: only residual adds of two layer outputs are supported")
            proj = max(x[1] for x in (a, b) if x[0] == "layer")
            recs[proj]["res"] = True
            val[outs[0]] = ("layer", proj, "res")
            continue
        if op in ("GlobalAveragePool", "ReduceMean"):
            if op == "ReduceMean" and sorted(int(x) % 4 for x in attr(node, "axes", [])) != [2, 3]:
                raise ConvertError(f"{where}: only a mean over H and W is supported")
            val[outs[0]] = ("pool",)
            continue
        if op in ("Flatten", "Reshape", "Squeeze"):
            if not src or src[0] != "pool":
                raise ConvertError(f"{where}: reshapes are only supported after the global pool")
            val[outs[0]] = ("pool",)
            continue
        if op in ("Gemm", "MatMul"):
            if not src or src[0] != "pool":
                raise ConvertError(f"{where}: the classifier must follow the global pool")
            w = const(ins[1], node)
            if op == "Gemm":
                if attr(node, "alpha", 1.0) != 1.0 or attr(node, "beta", 1.0) != 1.0 or attr(node, "transA", 0):
                    raise ConvertError(f"{where}: only alpha = beta = 1, transA = 0 is supported")
                if not attr(node, "transB", 0):
                    w = w.T
                b = const(ins[2], node) if len(ins) > 2 and ins[2] else None
            else:
                w, b = w.T, None
            recs.append(new_layer(where, w, b))
            val[outs[0]] = ("fc",)
            continue
        if op in ("Shape", "Gather", "Unsqueeze", "Concat"):   # shape arithmetic for Reshape
            continue
        raise ConvertError(f"{where}: unsupported operator")

    # Model-wide activation and padding, checked layer by layer in assemble().
    acts = {r["act"] for r in recs if r["act"] is not None}
    if len(acts) > 1:
        raise ConvertError(f"mixed activations {sorted(acts)}: the model needs one kind")
    act = acts.pop() if acts else "relu6"
    arch = {"v1": fmt.ARCH_V1, "v2": fmt.ARCH_V2, None: None}[args.arch]
    if arch is None:
        arch = fmt.ARCH_V2 if any(r["res"] for r in recs) else fmt.ARCH_V1
    padding = None
    h, w = height, width
    for r in recs:
        if classify_layer(r) in ("conv3x3", "dw"):
            t, l, b, rr = r["pads"]
            s = r["stride"]
            same = fmt.same_pads(h, s) + fmt.same_pads(w, s)
            kinds = []
            if (t, l, b, rr) == (1, 1, 1, 1):
                kinds.append(fmt.PAD_SYMMETRIC)
            if (t, b, l, rr) == same:
                kinds.append(fmt.PAD_TF_SAME)
            if not kinds or (padding is not None and padding not in kinds):
                raise ConvertError(f"{r['name']}: padding (top {t}, left {l}, bottom {b}, right {rr}) "
                                   "is neither symmetric nor TensorFlow 'SAME' consistently")
            if len(kinds) == 1:
                padding = kinds[0]
            h, w = fmt.out_size(h, s), fmt.out_size(w, s)
        elif r["pads"] != (0, 0, 0, 0):
            raise ConvertError(f"{r['name']}: a padded 1x1 convolution")
    if padding is None:
        padding = fmt.PAD_SYMMETRIC
    return assemble(recs, arch, args.width_mult, height, width, act, padding, args.mean,
                    args.std, args.output)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--arch", choices=["v1", "v2"])
    ap.add_argument("--width-mult", type=float)
    ap.add_argument("--resolution", type=int)
    ap.add_argument("--activation", choices=["relu6", "relu"])
    ap.add_argument("--padding", choices=["symmetric", "same"])
    ap.add_argument("--mean", type=float, nargs=3, default=fmt.IMAGENET_MEAN)
    ap.add_argument("--std", type=float, nargs=3, default=fmt.IMAGENET_STD)
    args = ap.parse_args(argv)
    if args.resolution is not None and not 32 <= args.resolution <= 16384:
        ap.error("--resolution must be within 32..16384")
    try:
        if args.input.endswith(".onnx"):
            arch, alpha, classes = convert_onnx(args.input, args)
        else:
            arch, alpha, classes = convert_state_dict(args.input, args)
    except ConvertError as e:
        print(f"mnet_convert: {args.input}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as e:
        print(f"mnet_convert: {args.input}: {e}", file=sys.stderr)
        return 1
    print(f"{args.output}: MobileNet V{arch}, alpha {alpha}, {classes} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
