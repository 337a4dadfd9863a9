/// Two `ConvBNAct` layers joined so that the consumer applies the producer's BN + activation
/// as it reads its input, and adds up the producer's BN-backward reductions while each chunk of
/// its input gradient is in cache (`ConvBNAct.link`). Everything the two layers share lives
/// here instead of in fields spread over both: which layer defers its output, whose transform
/// the consumer applies, and the reductions handed from the consumer's backward to the
/// producer's.
///
/// The network that links its layers owns the links (`Network.links`); the layers reach their
/// link through `outputLink` / `inputLink`. The link refers to its layers without owning them
/// (the network owns those too), so no reference cycle keeps a network alive.
public final class LayerLink {
    public unowned let producer: ConvBNAct
    public unowned let consumer: ConvBNAct
    /// The producer's pass-A reductions (Σg, Σg·(z−mean) per share), added by the consumer;
    /// valid only for the gradient tensor `gradSumsFor` (the consumer's last dx).
    var gradSums: [Double] = []
    var gradSumsFor: Tensor?

    init(producer: ConvBNAct, consumer: ConvBNAct) {
        self.producer = producer; self.consumer = consumer
    }

    /// The producer's pending `y = act(z·scale + shift)`, applied by the consumer. Points at the
    /// producer's per-channel tensors, so it always reflects the producer's current affine map.
    var transform: InputTransform {
        InputTransform(scale: producer.scale.data, shift: producer.shift.data, act: producer.activation)
    }

    /// Whether the producer needs pass A at all (it has BN or a bias, and ran forward).
    var producerNeedsSums: Bool { (producer.batchNorm || producer.hasBias) && producer.z != nil }

    /// Runs the consumer's backward `body` with the target for the producer's pass-A sums
    /// (nil when the producer has none), then records that they belong to `dx`.
    func collectingGradSums<R>(shares T: Int, into dx: Tensor, _ body: (GradSumsTarget?) -> R) -> R {
        guard producerNeedsSums else {
            let r = body(nil)
            gradSumsFor = dx
            return r
        }
        let p = producer
        gradSums = [Double](repeating: 0, count: T * 2 * p.cout)
        let r = gradSums.withUnsafeMutableBufferPointer { gs in
            body(GradSumsTarget(z: p.z!.data, c: p.cout, scale: p.scale.data, shift: p.shift.data, mean: p.mean.data,
                                act: p.activation, sums: gs.baseAddress!))
        }
        gradSumsFor = dx
        return r
    }

    /// The sums the consumer collected, if they are for `dy` (the producer's incoming
    /// gradient) and for `T` shares; clears the hand-over either way.
    func takeGradSums(for dy: Tensor, shares T: Int) -> [Double]? {
        defer { gradSumsFor = nil }
        guard gradSumsFor === dy, gradSums.count == T * 2 * producer.cout else { return nil }
        return gradSums
    }
}

extension ConvBNAct {
    /// Whether `link(producer:consumer:)` accepts the pair: channel counts agree, the consumer
    /// reads its input in a way that can apply a transform (depthwise, or a 1×1 stride-1 conv),
    /// and neither side is linked already.
    public static func canLink(producer: ConvBNAct, consumer: ConvBNAct) -> Bool {
        producer !== consumer && producer.pool === consumer.pool && producer.cout == consumer.cin
            && producer.outputLink == nil && consumer.inputLink == nil
            && (consumer.depthwise || (consumer.kernel == 1 && consumer.stride == 1))
    }

    /// Fuses the producer's BN + activation into the consumer's input reads. Afterwards
    /// `producer.forward` returns its pre-activation `z` (not `y`), which must reach `consumer`
    /// and nothing else; the consumer applies `act(z·scale + shift)` with the producer's current
    /// affine map in its forward (ring copy or GEMM chunk) and again in the dW pass of its
    /// backward, and adds up the producer's BN-backward reductions while each chunk of its
    /// input gradient is cache-resident. Same arithmetic as unlinked, minus one write and two
    /// reads of the largest tensors of an inverted-residual block. The caller keeps the link
    /// (a `Network` in `links`).
    @discardableResult
    public static func link(producer: ConvBNAct, consumer: ConvBNAct) throws -> LayerLink {
        guard canLink(producer: producer, consumer: consumer) else {
            throw EngineError("ConvBNAct.link: cannot fuse a \(producer.cin)→\(producer.cout) k\(producer.kernel) producer into a \(consumer.cin)→\(consumer.cout) k\(consumer.kernel) s\(consumer.stride)\(consumer.depthwise ? " depthwise" : "") consumer; the consumer must be depthwise or 1×1 stride 1 with cin = the producer's cout, and neither may be linked already")
        }
        let link = LayerLink(producer: producer, consumer: consumer)
        producer.outputLink = link
        consumer.inputLink = link
        return link
    }
}
