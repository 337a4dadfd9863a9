import TinyForgeSpec

/// A trainable tensor with its gradient. `isBatchNormOrBias` marks BN γ/β and biases, which
/// trainers conventionally exclude from weight decay.
public struct Parameter {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public let isBatchNormOrBias: Bool
}

/// A single-input, single-output layer.
///
/// Contract (shared by every layer in this module):
/// - `forward` returns a buffer the layer owns and reuses on the next call, and keeps a
///   reference to `x` for backward: do not overwrite `x` or the output until `backward` ran.
/// - `backward(dy)` must follow the `forward` it differentiates; it *accumulates* into the
///   parameter gradients (call `zeroGrad()` once per step) and returns dL/dx in a buffer the
///   layer owns.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, training: Bool) -> Tensor
    func backward(_ dy: Tensor) -> Tensor
    var parameters: [Parameter] { get }
    func zeroGrad()
}

extension Layer {
    public func zeroGrad() { for p in parameters { p.grad.zero() } }
    /// Trainable scalars, counted as PyTorch counts `numel()` of `parameters()`.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// Invalid layer configuration or input shape; the message names the field and the fix.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Kaiming-normal init as `torch.nn.init.kaiming_normal_(mode='fan_out', nonlinearity='relu')`:
/// std = √(2 / fan_out), fan_out = out_channels · k · k (PyTorch does not divide by groups).
func kaimingNormal(_ t: Tensor, fanOut: Int, rng: inout SeededGenerator) {
    let std = (2.0 / Float(fanOut)).squareRoot()
    for i in 0..<t.count { t[i] = rng.nextGaussian() * std }
}

func checkShape(_ x: Tensor, _ expected: [Int?], _ layer: String) {
    let ok = x.shape.count == expected.count && zip(x.shape, expected).allSatisfy { $1 == nil || $0 == $1! }
    precondition(ok, "\(layer): input shape \(x.shape) does not match expected \(expected.map { $0.map(String.init) ?? "_" }) (NHWC)")
}
