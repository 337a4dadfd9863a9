import TinyForgeSpec

/// NSGA-II (Deb et al., 2002) as a steady stream: the parent population is the environmental
/// selection (non-dominated sort, then crowding distance) of `populationSize` among every scored
/// candidate so far, i.e. (μ+λ) elitism over the whole history. Children: binary tournaments on
/// (rank, crowding), crossover with probability `crossoverRate`, then mutation with probability
/// `mutationRate` (always when the crossover child is already taken).
///
/// With a batching operator (`LLMVariation`, `nsga2+llm`) all children of a round are asked
/// for at once: each a crossover of two tournament winners (probability `crossoverRate`) or a
/// mutation of the first, written in one step by the operator.
///
/// Stateless like `EvolutionProposer`: everything comes from the archive, so resume is exact.
public struct NSGA2Proposer: Proposer {
    /// `nsga2`, or `nsga2+<operator>` with a non-classic variation (`nsga2+llm`).
    public var name: String { variation.name == "classic" ? "nsga2" : "nsga2+\(variation.name)" }
    public var populationSize: Int
    public var crossoverRate: Double
    public var mutationRate: Double
    public var variation: VariationOperator
    public var maxAttemptsPerProposal: Int

    public init(populationSize: Int = 20, crossoverRate: Double = 0.9, mutationRate: Double = 0.5,
                variation: VariationOperator = ClassicVariation(), maxAttemptsPerProposal: Int = 20) {
        self.populationSize = max(2, populationSize); self.crossoverRate = crossoverRate
        self.mutationRate = mutationRate; self.variation = variation; self.maxAttemptsPerProposal = maxAttemptsPerProposal
    }

    public func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal] {
        let scored = context.archive.scored
        if scored.count < populationSize {
            return try RandomProposer.initial(count: count, proposer: name, context: &context)
        }
        let points = scored.map { context.archive.point($0)! }
        let parents = Pareto.select(points, count: populationSize)
        func tournament(_ rng: inout SeededGenerator) -> EvaluatedCandidate {
            let a = parents[Int.random(in: 0..<parents.count, using: &rng)]
            let b = parents[Int.random(in: 0..<parents.count, using: &rng)]
            let winner = (a.rank, -a.crowding) <= (b.rank, -b.crowding) ? a : b
            return scored[winner.index]
        }
        var out: [Proposal] = []
        var accepted = 0, attempts = 0
        if variation.batchesRequests {
            // One call per round for all its children (LLM variation): each child is a crossover
            // of two tournament winners with probability `crossoverRate`, else a mutation of the
            // first; the operator writes it in one step (no crossover-then-mutation chain).
            while accepted < count, attempts < count * maxAttemptsPerProposal {
                let n = min(count - accepted, count * maxAttemptsPerProposal - attempts)
                attempts += n
                var requests: [VariationRequest] = []
                for _ in 0..<n {
                    let a = tournament(&context.rng), b = tournament(&context.rng)
                    let cross = a.hash != b.hash && Double.random(in: 0..<1, using: &context.rng) < crossoverRate
                    requests.append(cross ? .crossover(a, b) : .mutation(a))
                }
                for o in try await variation.vary(requests, proposer: name, context: &context) {
                    out += o.proposals
                    if o.hasChild { accepted += 1 }
                }
            }
            return out
        }
        while accepted < count, attempts < count * maxAttemptsPerProposal {
            attempts += 1
            let a = tournament(&context.rng), b = tournament(&context.rng)
            var child: Proposal?
            if a.hash != b.hash, Double.random(in: 0..<1, using: &context.rng) < crossoverRate {
                child = try await variation.crossover(a, b, proposer: name, context: &context)
            }
            let taken = child?.spec.map { !context.check($0).isAccepted } ?? true
            if child == nil || taken || Double.random(in: 0..<1, using: &context.rng) < mutationRate {
                let base = child?.spec ?? a.spec
                let lineage = child == nil ? [a] : [a, b]
                if let m = try await variation.mutate(base, parents: lineage, proposer: name, context: &context) {
                    if let c = child, c.change == "crossover" { child = m; child!.change = "crossover + " + (m.change ?? "mutation") }
                    else { child = m }
                }
            }
            guard let c = child else { continue }
            out.append(c)
            if let s = c.spec {
                if context.check(s).isAccepted { accepted += 1 }
                context.reserve(s)
            } else {
                accepted += 1
            }
        }
        return out
    }
}
