/// Compile-time activation kernels: each hot loop is written once as a generic function over
/// `ActKernel` and specialised per activation by `Activation.dispatch`, so the `switch` runs
/// once per call instead of once per vector.
public protocol ActKernel {
    static func f(_ u: F8) -> F8
    static func df(_ u: F8, _ dy: F8) -> F8
    static var act: Activation? { get }
}

public enum IdentityK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { u }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { dy }
    public static var act: Activation? { nil }
}
public enum ReLUK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.relu.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.relu.backward(u, dy) }
    public static var act: Activation? { .relu }
}
public enum ReLU6K: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.relu6.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.relu6.backward(u, dy) }
    public static var act: Activation? { .relu6 }
}
public enum LeakyK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.leakyRelu.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.leakyRelu.backward(u, dy) }
    public static var act: Activation? { .leakyRelu }
}
public enum SwishK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.swish.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.swish.backward(u, dy) }
    public static var act: Activation? { .swish }
}
public enum HSwishK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.hswish.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.hswish.backward(u, dy) }
    public static var act: Activation? { .hswish }
}
public enum SigmoidK: ActKernel {
    @inline(__always) public static func f(_ u: F8) -> F8 { Activation.sigmoid.apply(u) }
    @inline(__always) public static func df(_ u: F8, _ dy: F8) -> F8 { Activation.sigmoid.backward(u, dy) }
    public static var act: Activation? { .sigmoid }
}

/// Scalar tail helpers (channels beyond the last multiple of 8) that use the same SIMD math
/// as the main loop, so every channel sees identical rounding.
extension ActKernel {
    @inline(__always) static func f1(_ u: Float) -> Float { f(F8(repeating: u))[0] }
    @inline(__always) static func df1(_ u: Float, _ dy: Float) -> Float { df(F8(repeating: u), F8(repeating: dy))[0] }
}
