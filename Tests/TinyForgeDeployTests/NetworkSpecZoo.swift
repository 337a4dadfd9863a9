import TinyForgeSpec

/// Small architectures that together cover every block type (conv, dsconv, mbconv,
/// fused_mbconv, basic), SE, identity and projection residuals, post-activations after the add
/// and every activation (relu, relu6, leaky_relu, swish, hswish), with stride-2 layers on even
/// inputs (the PyTorch-padding emulation) and odd ones.
enum NetworkSpecZoo {
    static func spec(_ json: String) -> ArchitectureSpec {
        try! ArchitectureSpec.decode(jsonText: json, source: "NetworkSpecZoo").spec
    }

    /// conv + basic (ResNet style): relu stem, relu6 conv, basic s2 with a projection
    /// shortcut (post-act relu fused in ADD), basic with swish after the add, hswish head conv.
    static let convBasic = spec(#"""
    {"name": "zoo-conv-basic", "input": {"height": 16, "width": 16, "channels": 3}, "num_classes": 10,
     "stem": {"out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu"},
     "stages": [
       {"block": "conv", "repeats": 1, "out_channels": 12, "kernel": 5, "stride": 1, "activation": "relu6"},
       {"block": "basic", "repeats": 1, "out_channels": 16, "kernel": 3, "stride": 2, "activation": "relu", "skip": "residual_full"},
       {"block": "basic", "repeats": 1, "out_channels": 16, "kernel": 3, "stride": 1, "activation": "swish", "skip": "residual_full"}],
     "head": {"conv_channels": 24, "activation": "hswish", "dropout": 0}}
    """#)

    /// dsconv + mbconv (the paper's blocks): leaky dsconv s2 with SE, hswish mbconv k5 with
    /// SE 0.5 and a projection residual, relu6 mbconv s2 k7 (odd input 5 → 3), mbconv identity residual.
    static let dsMB = spec(#"""
    {"name": "zoo-ds-mbconv", "input": {"height": 20, "width": 20, "channels": 3}, "num_classes": 10,
     "stages": [
       {"block": "dsconv", "repeats": 1, "out_channels": 16, "kernel": 3, "stride": 2, "se_ratio": 0.25, "activation": "leaky_relu"},
       {"block": "mbconv", "repeats": 2, "out_channels": 24, "kernel": 5, "stride": 2, "expansion": 3, "se_ratio": 0.5, "activation": "hswish", "skip": "residual"},
       {"block": "mbconv", "repeats": 1, "out_channels": 24, "kernel": 7, "stride": 2, "expansion": 4, "activation": "relu6"},
       {"block": "mbconv", "repeats": 2, "out_channels": 24, "kernel": 3, "stride": 1, "expansion": 2, "activation": "relu6", "skip": "residual"}],
     "head": {"dropout": 0}}
    """#)

    /// fused_mbconv with SE and swish stem, fused_mbconv leaky with identity residual, dsconv
    /// swish residual (depthwise in place, swish as LOGISTIC + MUL).
    static let fused = spec(#"""
    {"name": "zoo-fused", "input": {"height": 12, "width": 12, "channels": 1}, "num_classes": 6,
     "stem": {"out_channels": 8, "kernel": 3, "stride": 1, "activation": "swish"},
     "stages": [
       {"block": "fused_mbconv", "repeats": 1, "out_channels": 16, "kernel": 3, "stride": 2, "expansion": 2, "se_ratio": 0.25, "activation": "relu"},
       {"block": "fused_mbconv", "repeats": 2, "out_channels": 16, "kernel": 5, "stride": 1, "expansion": 4, "activation": "leaky_relu", "skip": "residual"},
       {"block": "dsconv", "repeats": 2, "out_channels": 16, "kernel": 3, "stride": 1, "activation": "swish", "skip": "residual"}],
     "head": {"dropout": 0}}
    """#)

    static let all = [convBasic, dsMB, fused]
}
