import TinyForgeSpec

/// One origin's row of the report's "Who found the front" section. The search computes it
/// (`ProposerEvidence` in TinyForgeSearch) and hands it in as data: this module only shows it.
public struct ProposerEvidenceRow: Sendable, Equatable {
    public var origin: String
    public var proposals: Int
    public var parseFailures: Int
    public var outOfSpace: Int
    public var invalid: Int
    public var duplicates: Int
    public var overBudget: Int
    /// Budget rejections per constraint ("sram", "flash", "macs").
    public var overBudgetBy: [String: Int]
    public var surplus: Int
    public var screenedOut: Int
    public var accepted: Int
    public var trained: Int
    public var meanProxyAccuracy: Double?
    public var medianProxyAccuracy: Double?
    public var frontMembers: Int
    public var hypervolumeContribution: Double

    public init(origin: String, proposals: Int, parseFailures: Int, outOfSpace: Int, invalid: Int, duplicates: Int,
                overBudget: Int, overBudgetBy: [String: Int], surplus: Int, screenedOut: Int, accepted: Int, trained: Int,
                meanProxyAccuracy: Double?, medianProxyAccuracy: Double?, frontMembers: Int, hypervolumeContribution: Double) {
        self.origin = origin; self.proposals = proposals; self.parseFailures = parseFailures; self.outOfSpace = outOfSpace
        self.invalid = invalid; self.duplicates = duplicates; self.overBudget = overBudget; self.overBudgetBy = overBudgetBy
        self.surplus = surplus; self.screenedOut = screenedOut; self.accepted = accepted; self.trained = trained
        self.meanProxyAccuracy = meanProxyAccuracy; self.medianProxyAccuracy = medianProxyAccuracy
        self.frontMembers = frontMembers; self.hypervolumeContribution = hypervolumeContribution
    }

    public var jsonValue: JSONValue {
        ["origin": .string(origin), "proposals": num(proposals), "parse_failures": num(parseFailures),
         "out_of_space": num(outOfSpace), "invalid": num(invalid), "duplicates": num(duplicates),
         "over_budget": num(overBudget), "over_budget_by": .object(overBudgetBy.mapValues { num($0) }),
         "surplus": num(surplus), "screened_out": num(screenedOut), "accepted": num(accepted), "trained": num(trained),
         "mean_proxy_accuracy": opt(meanProxyAccuracy), "median_proxy_accuracy": opt(medianProxyAccuracy),
         "front_members": num(frontMembers), "hypervolume_contribution": num(hypervolumeContribution)]
    }
}

extension ReportWriter {
    /// The table of every origin and a bar chart of its exclusive hypervolume contribution.
    static func proposers(_ r: ExplainReport) -> String {
        let rows = r.proposerEvidence
        var h = "<div class=\"scroll\"><table><thead><tr><th>origin</th><th>proposals</th><th>parse failures</th><th>out of space</th>"
        h += "<th>invalid</th><th>duplicates</th><th>over budget (SRAM / flash / MACs)</th><th>surplus</th><th>screened out</th>"
        h += "<th>accepted</th><th>trained</th><th>mean proxy acc</th><th>median</th><th>on the front</th><th>HV contribution</th></tr></thead><tbody>"
        for e in rows {
            let by = ["sram", "flash", "macs"].map { String(e.overBudgetBy[$0] ?? 0) }.joined(separator: " / ")
            let cells: [String] = [
                "\(e.proposals)", "\(e.parseFailures)", "\(e.outOfSpace)", "\(e.invalid)", "\(e.duplicates)", "\(e.overBudget) (\(by))",
                "\(e.surplus)", "\(e.screenedOut)", "\(e.accepted)", "\(e.trained)",
                e.meanProxyAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "–",
                e.medianProxyAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "–",
                "\(e.frontMembers)", String(format: "%.4f", e.hypervolumeContribution),
            ]
            h += "<tr><td>\(esc(e.origin))</td>" + cells.map { "<td class=\"num\">\(esc($0))</td>" }.joined() + "</tr>"
        }
        h += "</tbody></table></div>"
        if rows.contains(where: { $0.hypervolumeContribution > 0 }) {
            h += figure(ReportCharts.bars(rows.map { ($0.origin, $0.hypervolumeContribution) }, colour: palette[0],
                                          format: { String(format: "%.4f", $0) }),
                        "Exclusive hypervolume contribution per origin: the front's hypervolume minus the hypervolume of the front without its members (same reference point as the run's).")
        }
        return h + "<p class=\"muted\">Proxy accuracy: the rung-0 (short) training of each trained candidate. Accepted = passed every check and queued for training; surplus and screened-out proposals were valid but not trained.</p>"
    }
}
