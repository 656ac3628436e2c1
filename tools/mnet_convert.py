#!/usr/bin/python3
"""mnet_convert.py - convert MobileNet V1/V2/V3 weights to an mnet model file (docs/FORMAT.md).

    mnet_convert.py INPUT OUTPUT [--arch v1|v2|v3-large|v3-small] [--width-mult A]
                    [--resolution R] [--activation relu6|relu] [--padding symmetric|same]
                    [--bn-eps E] [--mean M M M] [--std S S S]

INPUT is one of
  * a PyTorch state_dict (.pt / .pth): torchvision's mobilenet_v2(width_mult=A, num_classes=N)
    or mobilenet_v3_large/small(width_mult=A, num_classes=N) as it is, or tools/mobilenet_v1.py's
    MobileNetV1 (naming documented there).  Strides, activations and the BatchNorm epsilon are
    not in a state_dict: they come from the architecture (torchvision's epsilon: 1e-5 for V1/V2,
    0.001 for V3; --bn-eps overrides).  torchvision's dilated V3 has the same tensors as the
    plain one and cannot be told apart here: convert it from ONNX, where it is refused.
  * an ONNX file as torch.onnx.export writes it (opset 13 and later): BatchNormalization kept
    or already folded into Conv, ReLU6 as Clip, h-swish as HardSwish (opset 14+) or as
    x * HardSigmoid(x) (opset 13), squeeze-and-excite as GlobalAveragePool -> Conv -> Relu ->
    Conv -> HardSigmoid -> Mul, Pad nodes for TensorFlow-style padding, Gemm or MatMul(+Add)
    fully connected layers.  Architecture, width multiplier, classes, input size, activation
    and padding are read from the graph.
The architecture (when --arch is not given) and the width multiplier (when --width-mult is not
given) are the ones whose layer shapes equal the input's, layer for layer.  Several width
multipliers can build the very same network; the simplest is written then (the file's channel
counts are derived from it, so any of them gives the same model).
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


SHAPE_KIND = {"se_reduce": "pw", "se_expand": "pw"}   # layer ops that classify_layer cannot see


# ------------------------------------------------------------------ generic layer records
def new_layer(name, w, b=None):
    """One convolution or fully connected layer as found in the input.  se: 'se_reduce' or
    'se_expand' for the squeeze-and-excite convolutions of a graph (state_dicts: from the
    architecture)."""
    return dict(name=name, w=np.asarray(w, np.float32), b=None if b is None else np.asarray(b, np.float32),
                bn=None, eps=None, act=None, res=False, se=None, stride=1, group=1, pads=(0, 0, 0, 0))


ARCH_OPTION = {"v1": fmt.ARCH_V1, "v2": fmt.ARCH_V2, "v3-large": fmt.ARCH_V3_LARGE,
               "v3-small": fmt.ARCH_V3_SMALL, None: None}
V3 = (fmt.ARCH_V3_LARGE, fmt.ARCH_V3_SMALL)


def classify_layer(l):
    """The layer's kind as its weights show it (squeeze-and-excite layers look like 'pw')."""
    w = l["w"]
    if w.ndim == 2:
        return "fc"
    cout, cin_g, kh, kw = w.shape
    if (kh, kw) == (1, 1) and l["group"] == 1:
        return "pw"
    if (kh, kw) == (3, 3) and l["group"] == 1:
        return "conv3x3"
    if kh == kw and kh in (3, 5) and cin_g == 1 and l["group"] == cout:
        return "dw"
    raise ConvertError(f"{l['name']}: a {kh}x{kw} convolution with group {l['group']} is not a "
                       "MobileNet layer")


def identify(recs, arch, alpha):
    """(arch, alpha) whose layers have exactly the records' weight shapes.  A given arch or alpha
    is taken as it is (assemble() then names the first layer that does not fit)."""
    if not recs or recs[-1]["w"].ndim != 2:
        raise ConvertError("the model does not end in a fully connected classifier")
    if arch is not None and alpha is not None:
        return arch, alpha
    shapes = [r["w"].shape for r in recs]
    channels, classes = shapes[0][1], shapes[-1][0]
    for a in [arch] if arch is not None else fmt.ARCH_NAMES:
        if alpha is None:
            found = fmt.infer_alpha(a, shapes, channels, classes)
        else:
            want = [fmt.weight_shape(l) for l in fmt.layers(a, alpha, channels, classes)]
            found = alpha if want == [tuple(s) for s in shapes] else None
        if found is not None:
            return a, found
    names = fmt.ARCH_NAMES[arch] if arch is not None else "MobileNet V1, V2, V3 Large or V3 Small"
    raise ConvertError(f"{len(recs)} layers (weights {', '.join(str(tuple(s)) for s in shapes[:3])}, ...): "
                       f"no width multiplier{'' if alpha is None else ' ' + str(alpha)} of {names} "
                       "has these shapes (modified MobileNets, such as torchvision's reduced_tail "
                       "V3, are not supported)")


def assemble(recs, arch, alpha, height, width, act, padding, mean, std, out):
    """Check the records against the architecture and write the file.  act: the model's
    activation for V1/V2 ('relu6' or 'relu'); V3's are fixed per layer."""
    channels = recs[0]["w"].shape[1]
    classes = recs[-1]["w"].shape[0]
    model = f"{fmt.ARCH_NAMES[arch]} alpha {alpha}"
    want = fmt.layers(arch, alpha, channels, classes, act)
    if len(want) != len(recs):
        raise ConvertError(f"{len(recs)} layers, {model} has {len(want)}")
    eps = {r["eps"] for r in recs if r["bn"] is not None}
    tensors = []
    for i, (r, l) in enumerate(zip(recs, want)):
        kind = classify_layer(r)
        if kind != SHAPE_KIND.get(l["op"], l["op"]) or tuple(r["w"].shape) != fmt.weight_shape(l):
            raise ConvertError(f"{r['name']}: {kind} {tuple(r['w'].shape)} where {model} has "
                               f"{l['op']} {fmt.weight_shape(l)} (layer {i})")
        se = l["op"] if l["op"] in SHAPE_KIND else None
        if r["se"] != se:
            raise ConvertError(f"{r['name']}: layer {i} is {'a ' + se if se else 'no'} squeeze-and-"
                               f"excite convolution in {model}, here it is {r['se'] or 'a plain ' + kind}")
        if r["stride"] != l["stride"]:
            raise ConvertError(f"{r['name']}: stride {r['stride']}, expected {l['stride']}")
        if (r["act"] or "none") != l["act"]:
            raise ConvertError(f"{r['name']}: activation {r['act'] or 'none'} where layer {i} "
                               f"({l['op']}) of {model} has {l['act']}")
        if r["res"] != l["residual"]:
            raise ConvertError(f"{r['name']}: residual add {'present' if r['res'] else 'missing'}"
                               f" at layer {i}")
        if l["op"] in ("fc", "se_reduce", "se_expand") and r["bn"] is not None:
            raise ConvertError(f"{r['name']}: BatchNorm on a {l['op']} layer")
        if se and r["b"] is None:
            raise ConvertError(f"{r['name']}: a squeeze-and-excite convolution without a bias")
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
    fmt.write_model(out, arch, alpha, height, width, channels, classes, tensors,
                    act=fmt.ACT_RELU if act == "relu" else fmt.ACT_RELU6, padding=padding, mean=mean,
                    std=std, eps=float(eps.pop()) if len(eps) == 1 else fmt.TORCHVISION_BN_EPS[arch])
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
        elif "weight" in p and p["weight"].ndim in (2, 4):
            recs.append(new_layer(prefix, p["weight"], p.get("bias")))
        else:
            raise ConvertError(f"{prefix}: unsupported parameters {sorted(p)}")
    # Groups, strides, activations and BatchNorm epsilons are not in a state_dict: the caller
    # takes them from the architecture.
    return recs


def convert_state_dict(path, args):
    import torch
    obj = torch.load(path, map_location="cpu")
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConvertError(f"{path}: not a state_dict")
    recs = from_state_dict(obj)
    arch, alpha = identify(recs, ARCH_OPTION[args.arch], args.width_mult)
    if arch in V3 and args.activation:
        raise ConvertError("--activation is for V1 and V2: V3's activations are fixed per layer")
    act = args.activation or "relu6"
    eps = args.bn_eps if args.bn_eps is not None else fmt.TORCHVISION_BN_EPS[arch]
    for r, l in zip(recs, fmt.layers(arch, alpha, recs[0]["w"].shape[1], recs[-1]["w"].shape[0], act)):
        r["stride"], r["res"] = l["stride"], l["residual"]
        r["group"] = l["cout"] if l["op"] == "dw" else 1
        r["act"] = None if l["act"] == "none" else l["act"]
        r["se"] = l["op"] if l["op"] in SHAPE_KIND else None
        r["eps"] = eps
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

    # What each tensor is: ("input",); ("pad", source tensor, pads); ("layer", i, stage), stage
    # "lin" (the convolution or fully connected output, its bias included), "bn", "act", "res"
    # (after the residual add) or "se" (the depthwise output scaled by squeeze-and-excite);
    # ("pool", i, tensor, flat): the global average of layer i's output `tensor`, flat once
    # reshaped to [N, C]; ("hsig", i, tensor): HardSigmoid of layer i's pre-activation `tensor`.
    val = {inputs[0].name: ("input",)}
    recs = []
    se_scales = {}   # se_expand layer -> the depthwise output tensor its h-sigmoid scales

    def activate(src, kind, where):
        if not src or src[0] != "layer" or src[2] not in ("lin", "bn") or recs[src[1]]["act"] is not None:
            raise ConvertError(f"{where}: an activation must follow a convolution (+ BatchNorm) or "
                               "a fully connected layer")
        recs[src[1]]["act"] = kind
        return ("layer", src[1], "act")

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
            se = None
            if src and src[0] == "pool" and not src[3]:
                se = "se_reduce"      # squeeze: a 1x1 convolution of the pooled depthwise output
            elif src and src[0] == "layer" and src[2] == "act" and recs[src[1]]["se"] == "se_reduce":
                se = "se_expand"
            elif not src or src[0] not in ("input", "layer"):
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
            r["se"] = se
            recs.append(r)
            if se:
                se_scales[len(recs) - 1] = src[2] if se == "se_reduce" else se_scales[src[1]]
            val[outs[0]] = ("layer", len(recs) - 1, "lin")
            continue
        if op == "BatchNormalization":
            if not src or src[0] != "layer" or src[2] != "lin" or recs[src[1]]["w"].ndim != 4 \
                    or recs[src[1]]["bn"] is not None:
                raise ConvertError(f"{where}: BatchNorm must directly follow a convolution")
            r = recs[src[1]]
            r["bn"] = tuple(const(n, node) for n in ins[1:5])
            r["eps"] = float(attr(node, "epsilon", 1e-5))
            val[outs[0]] = ("layer", src[1], "bn")
            continue
        if op in ("Relu", "Clip", "HardSwish"):
            kind = {"Relu": "relu", "HardSwish": "hswish"}.get(op)
            if op == "Clip":
                lo = attr(node, "min") if len(ins) < 2 else (const(ins[1], node) if ins[1] else None)
                hi = attr(node, "max") if len(ins) < 3 else (const(ins[2], node) if ins[2] else None)
                if lo is None or hi is None or float(lo) != 0.0 or float(hi) != 6.0:
                    raise ConvertError(f"{where}: only Clip(0, 6) (ReLU6) is supported")
                kind = "relu6"
            val[outs[0]] = activate(src, kind, where)
            continue
        if op == "HardSigmoid":
            # PyTorch's h-sigmoid (its opset-13 h-swish is x * HardSigmoid(x)); completed by a Mul.
            if abs(attr(node, "alpha", 0.2) - 1 / 6) > 1e-6 or abs(attr(node, "beta", 0.5) - 0.5) > 1e-6:
                raise ConvertError(f"{where}: only HardSigmoid(alpha 1/6, beta 1/2) is supported")
            if not src or src[0] != "layer" or src[2] not in ("lin", "bn") or recs[src[1]]["act"] is not None:
                raise ConvertError(f"{where}: HardSigmoid must follow a convolution (+ BatchNorm) or "
                                   "a fully connected layer")
            val[outs[0]] = ("hsig", src[1], ins[0])
            continue
        if op == "Mul":
            a, b = val.get(ins[0]), val.get(ins[1])
            hs, other = (a, ins[1]) if a and a[0] == "hsig" else (b, ins[0])
            if not hs or hs[0] != "hsig":
                raise ConvertError(f"{where}: only h-swish (x * HardSigmoid(x)) and the squeeze-and-"
                                   "excite scale are supported")
            if other == hs[2]:
                val[outs[0]] = activate(val.get(other), "hswish", where)
            elif recs[hs[1]]["se"] == "se_expand" and other == se_scales[hs[1]]:
                recs[hs[1]]["act"] = "hsigmoid"
                val[outs[0]] = ("layer", val[other][1], "se")
            else:
                raise ConvertError(f"{where}: a HardSigmoid that scales neither its own input "
                                   "(h-swish) nor the squeeze-and-excite input")
            continue
        if op == "Add":
            a, b = val.get(ins[0]), val.get(ins[1])
            fc = [x for x in (a, b) if x and x[0] == "layer" and x[2] == "lin" and recs[x[1]]["w"].ndim == 2]
            if fc and (ins[0] in consts or ins[1] in consts):
                r = recs[fc[0][1]]
                if r["b"] is not None:
                    raise ConvertError(f"{where}: a second bias on a fully connected layer")
                r["b"] = np.asarray(consts[ins[0] if ins[0] in consts else ins[1]], np.float32).reshape(-1)
                val[outs[0]] = fc[0]
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
            if not src or src[0] != "layer":
                raise ConvertError(f"{where}: a global pool must follow a layer")
            val[outs[0]] = ("pool", src[1], ins[0], op == "ReduceMean" and not attr(node, "keepdims", 1))
            continue
        if op in ("Flatten", "Reshape", "Squeeze"):
            if not src or src[0] != "pool":
                raise ConvertError(f"{where}: reshapes are only supported after the global pool")
            val[outs[0]] = src[:3] + (True,)
            continue
        if op in ("Gemm", "MatMul"):
            if not src or not (src[0] == "pool" or src[0] == "layer" and src[2] == "act"
                               and recs[src[1]]["w"].ndim == 2):
                raise ConvertError(f"{where}: a fully connected layer must follow the global pool "
                                   "or another fully connected layer")
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
            val[outs[0]] = ("layer", len(recs) - 1, "lin")
            continue
        if op in ("Shape", "Gather", "Unsqueeze", "Concat"):   # shape arithmetic for Reshape
            continue
        raise ConvertError(f"{where}: unsupported operator")

    arch, alpha = identify(recs, ARCH_OPTION[args.arch], args.width_mult)
    act = "relu6"
    if arch not in V3:   # V1/V2: one activation for the whole model, checked layer by layer
        acts = {r["act"] for r in recs if r["act"] is not None}
        if len(acts) > 1:
            raise ConvertError(f"mixed activations {sorted(acts)}: the model needs one kind")
        act = acts.pop() if acts else "relu6"
    padding = None
    h, w = height, width
    for r in recs:
        if classify_layer(r) in ("conv3x3", "dw"):
            t, l, b, rr = r["pads"]
            s, k = r["stride"], r["w"].shape[2]
            same = fmt.same_pads(h, s, k) + fmt.same_pads(w, s, k)
            kinds = []
            if (t, l, b, rr) == ((k - 1) // 2,) * 4:
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
    return assemble(recs, arch, alpha, height, width, act, padding, args.mean,
                    args.std, args.output)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--arch", choices=[k for k in ARCH_OPTION if k])
    ap.add_argument("--width-mult", "--alpha", type=float, dest="width_mult")
    ap.add_argument("--resolution", type=int)
    ap.add_argument("--activation", choices=["relu6", "relu"])
    ap.add_argument("--padding", choices=["symmetric", "same"])
    ap.add_argument("--bn-eps", type=float, help="state_dicts: BatchNorm epsilon "
                    "(default torchvision's: 1e-5 for V1/V2, 0.001 for V3)")
    ap.add_argument("--mean", type=float, nargs=3, default=fmt.IMAGENET_MEAN)
    ap.add_argument("--std", type=float, nargs=3, default=fmt.IMAGENET_STD)
    args = ap.parse_args(argv)
    if args.resolution is not None and not 32 <= args.resolution <= 16384:
        ap.error("--resolution must be within 32..16384")
    if args.bn_eps is not None and not 0 <= args.bn_eps <= 1:
        ap.error("--bn-eps must be within 0..1")
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
    print(f"{args.output}: {fmt.ARCH_NAMES[arch]}, alpha {alpha}, {classes} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
