import TinyForgeHardware
import TinyForgeSpec

/// A cost niche: MACs and peak SRAM ranges (both bounds inclusive, in MACs and bytes).
public struct CostBand: Equatable, Hashable, Sendable, Codable {
    public var macsLow: Int
    public var macsHigh: Int
    public var sramLow: Int
    public var sramHigh: Int

    public init(macsLow: Int, macsHigh: Int, sramLow: Int, sramHigh: Int) {
        self.macsLow = macsLow; self.macsHigh = macsHigh; self.sramLow = sramLow; self.sramHigh = sramHigh
    }

    enum CodingKeys: String, CodingKey {
        case macsLow = "macs_low", macsHigh = "macs_high", sramLow = "sram_low", sramHigh = "sram_high"
    }

    public func contains(macs: Int, sram: Int) -> Bool {
        (macsLow...macsHigh).contains(macs) && (sramLow...sramHigh).contains(sram)
    }

    /// Why (`macs`, `sram`) is outside, e.g. `MACs 4.1 M above 0–1.7 M; SRAM 12 KB below 21–43 KB`; nil = inside.
    public func miss(macs: Int, sram: Int) -> String? {
        var out: [String] = []
        if macs > macsHigh { out.append("MACs \(Units.formatCount(macs)) above \(macsText)") }
        if macs < macsLow { out.append("MACs \(Units.formatCount(macs)) below \(macsText)") }
        if sram > sramHigh { out.append("SRAM \(Units.formatBytes(sram)) above \(sramText)") }
        if sram < sramLow { out.append("SRAM \(Units.formatBytes(sram)) below \(sramText)") }
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }

    public var macsText: String { "\(Units.formatCount(macsLow))–\(Units.formatCount(macsHigh))" }
    public var sramText: String { "\(Units.formatBytes(sramLow))–\(Units.formatBytes(sramHigh))" }
}

/// What one of the K candidates of a request should aim at: a cost niche where the front is
/// sparse, with the nearest archive member as a worked example (LLMatic-style niches, issue 11).
public struct SlotTarget: Equatable, Sendable {
    /// 1-based, as the reply names it in `"slot"`.
    public var index: Int
    public var band: CostBand
    /// Front members already in the niche (0 = empty niche).
    public var frontCount: Int
    /// The archive member nearest to the niche (in it when one is), with measured numbers.
    public var example: CandidateSummary?

    public init(index: Int, band: CostBand, frontCount: Int, example: CandidateSummary?) {
        self.index = index; self.band = band; self.frontCount = frontCount; self.example = example
    }

    /// What to change to move `example` into the band: one clause per cost, deterministic.
    public var advice: String {
        guard let e = example else { return "No archive member near this band yet: design one for it from the space." }
        var out: [String] = []
        func pct(_ v: Int, _ to: Int) -> Int { v == 0 ? 100 : Int((abs(Double(v - to)) / Double(v) * 100).rounded(.up)) }
        if e.macs > band.macsHigh { out.append("cut MACs by at least \(pct(e.macs, band.macsHigh))% (fewer repeats or narrower out_channels in the costliest stage, stride 2 earlier)") }
        if e.macs < band.macsLow { out.append("raise MACs by at least \(pct(e.macs, band.macsLow))% (wider out_channels, one more repeat, or stride 1 in a later stage)") }
        if e.peakSRAMBytes > band.sramHigh { out.append("cut SRAM by at least \(pct(e.peakSRAMBytes, band.sramHigh))% (stride 2 in the first stage or stem, narrower early stages, smaller expansion)") }
        if e.peakSRAMBytes < band.sramLow { out.append("raise SRAM by at least \(pct(e.peakSRAMBytes, band.sramLow))% (wider or more expanded early stages at full resolution)") }
        if out.isEmpty { return "It is inside the band: keep its cost and change kernel, activation, se_ratio, skip or block for accuracy." }
        return "To move it into the band: " + out.joined(separator: "; ") + "."
    }
}
