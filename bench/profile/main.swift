import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// Profiles N random architectures from a space the way the search does on every proposal:
/// sample → validate → lower → MACs/params/flash → two memory plans → latency → budget.
/// Usage: tinyforge-profile-bench [N] [space] [seed]
let args = CommandLine.arguments
let n = args.count > 1 ? Int(args[1]) ?? 1000 : 1000
let spaceName = args.count > 2 ? args[2] : "paper"
let seed = args.count > 3 ? UInt64(args[3]) ?? 1 : 1
guard let space = SearchSpace.preset(named: spaceName) else { fatalError("unknown space \(spaceName)") }

var rng = SeededGenerator(seed: seed)
var specs: [ArchitectureSpec] = []
for _ in 0..<n { specs.append(try! space.sample(numClasses: 100, using: &rng)) }

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
// Warm-up (the latency calibration is fitted once, lazily).
_ = CostModel.evaluate(specs[0], target: .stm32h743, budget: .paper)

var fits = 0, ops = 0
let t0 = now()
for s in specs {
    let r = CostModel.evaluate(s, target: .stm32h743, budget: .paper)
    if r.fits { fits += 1 }
    ops += r.plan.ops.count
}
let t1 = now()
var hashT = 0.0
let t2 = now()
var h = 0
for s in specs { h &+= s.canonicalHash.count }
hashT = now() - t2
print(String(format: "profiled %d %@-space architectures in %.3f s (%.1f µs each, %.1f ops/arch avg); %d fit the paper budget",
             n, spaceName, t1 - t0, (t1 - t0) / Double(n) * 1e6, Double(ops) / Double(n), fits))
print(String(format: "canonical hash: %.1f µs each", hashT / Double(n) * 1e6))
