/// Collects the constant arrays of `weights.c` while `CCodeGenerator` walks the schedule:
/// each constant tensor once (`tf_c<id>`, int8 weights / int32 biases, in the model's layout),
/// and each step's per-channel requantisation (`tf_s<step>_multiplier` / `_shift`, int32).
struct WeightsEmitter {
    let model: QuantizedModel
    private var emitted = Set<TensorID>()
    private var definitions = [String]()
    private var declarations = [String]()
    /// Bytes of constant data emitted so far.
    private(set) var bytes = 0

    init(model: QuantizedModel) { self.model = model }

    /// The C name of constant tensor `id`, emitting it on first use.
    mutating func constant(_ id: TensorID) -> String {
        let name = "tf_c\(id)"
        guard !emitted.contains(id), let data = model.tensors[id].data else { return name }
        emitted.insert(id)
        let t = model.tensors[id]
        let comment = "/* '\(CSource.comment(t.name))' \(t.shape) */"
        switch data {
        case let .int8(v):
            declarations.append("extern const int8_t \(name)[\(v.count)]; \(comment)")
            definitions.append("const int8_t \(name)[\(v.count)] = \(CSource.initializer(v));")
            bytes += v.count
        case let .int32(v):
            declarations.append("extern const int32_t \(name)[\(v.count)]; \(comment)")
            definitions.append("const int32_t \(name)[\(v.count)] = \(CSource.initializer(v, perLine: 8));")
            bytes += 4 * v.count
        }
        return name
    }

    /// Names of the multiplier and shift arrays of step `step`.
    mutating func multipliers(step: Int, _ ms: [QuantizedMultiplier]) -> (String, String) {
        let m = "tf_s\(step)_multiplier", s = "tf_s\(step)_shift"
        declarations.append("extern const int32_t \(m)[\(ms.count)];")
        declarations.append("extern const int32_t \(s)[\(ms.count)];")
        definitions.append("const int32_t \(m)[\(ms.count)] = \(CSource.initializer(ms.map { $0.multiplier }, perLine: 8));")
        definitions.append("const int32_t \(s)[\(ms.count)] = \(CSource.initializer(ms.map { Int32($0.shift) }));")
        bytes += 8 * ms.count
        return (m, s)
    }

    func header() -> String {
        """
        /* weights.h: constant data of '\(CSource.comment(model.name))' (generated; do not edit). */
        #ifndef TF_WEIGHTS_H
        #define TF_WEIGHTS_H

        #include <stdint.h>

        \(declarations.joined(separator: "\n"))

        #endif /* TF_WEIGHTS_H */

        """
    }

    func source() -> String {
        """
        /* weights.c: int8 weights (OHWI / 1HWC / OI), int32 biases, int32 per-channel
         * multipliers (Q31) and shifts of '\(CSource.comment(model.name))' (generated; do not edit). */
        #include "weights.h"

        \(definitions.joined(separator: "\n\n"))

        """
    }
}
