import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeExplain

final class RationaleCheckerTests: XCTestCase {
    /// LMaNet-Elite: dsconv×2 k3 s2 | dsconv×2 k5 s2 residual | mbconv×2 k5 s2 e3 leaky |
    /// mbconv×3 k3 s1 e3 SE0.5 | mbconv×3 k7 s2 e3 (all relu6 but stage 3 leaky).
    let elite = ReferenceNetworks.spec("lmanet-elite")!

    func testDebugPrint() {
        let text = """
        The design uses five stages. Early layers use 3x3 depthwise separable convolutions to save memory, \
        while the last stage uses 7x7 kernels to enlarge the receptive field. Stage 4 adds squeeze-and-excitation \
        with a ratio of 0.5; there are no residual connections in the MBConv stages. We use ReLU6 throughout \
        and an expansion ratio of 6 in stage 3. Downsampling happens in stages 1, 2, 3 and 5. \
        Channels grow from 16 to 128. Stage 3 uses LeakyReLU. Total MACs are around 86M, under the 100M budget.
        """
        for c in RationaleChecker(spec: elite).check(text) { print(c.description, "| scope:", c.claim.scope.label, c.claim.property) }
    }
}
