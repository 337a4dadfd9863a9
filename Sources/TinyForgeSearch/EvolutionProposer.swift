import TinyForgeSpec

/// Regularized (aging) evolution (Real et al., 2019): the population is the `populationSize`
/// most recently proposed evaluated candidates, so the oldest age out however good they are.
/// Each child: sample `tournamentSize` members, take the best, vary it. A batching operator
/// (`LLMVariation`, `evolution+llm`) gets all the round's winners in one `vary` call.
///
/// The population is derived from the archive (proposal order), not kept in the proposer, so a
/// resumed run continues exactly where it stopped. Until `populationSize` candidates have a
/// score, proposals are uniform samples (the initial population).
public struct EvolutionProposer: Proposer {
    public enum Selection: String, Sendable, Codable {
        /// Lowest non-dominated rank within the population, ties by crowding distance, then accuracy.
        case paretoRank = "pareto"
        /// Highest accuracy (the original single-objective aging evolution).
        case accuracy
    }

    /// `evolution`, or `evolution+<operator>` with a non-classic variation (`evolution+llm`).
    public var name: String { variation.name == "classic" ? "evolution" : "evolution+\(variation.name)" }
    public var populationSize: Int
    public var tournamentSize: Int
    public var selection: Selection
    public var variation: VariationOperator
    /// Draws per requested child before giving up (rejected attempts are returned and recorded).
    public var maxAttemptsPerProposal: Int

    public init(populationSize: Int = 20, tournamentSize: Int = 5, selection: Selection = .paretoRank,
                variation: VariationOperator = ClassicVariation(), maxAttemptsPerProposal: Int = 20) {
        self.populationSize = max(2, populationSize); self.tournamentSize = max(1, tournamentSize)
        self.selection = selection; self.variation = variation; self.maxAttemptsPerProposal = maxAttemptsPerProposal
    }

    public func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal] {
        let population = Array(context.archive.scored.suffix(populationSize))
        if population.count < populationSize {
            return try RandomProposer.initial(count: count, proposer: name, context: &context)
        }
        let rc = context.archive.rankAndCrowding(population)
        func better(_ i: Int, _ j: Int) -> Bool {
            let ai = population[i].accuracy!, aj = population[j].accuracy!
            if selection == .paretoRank {
                if rc[i].rank != rc[j].rank { return rc[i].rank < rc[j].rank }
                // In 3–4 objectives most of a population is rank 0: prefer the less crowded
                // (NSGA-II's tie-break) so selection spreads along the front instead of
                // drifting to the most accurate, most expensive corner.
                if rc[i].crowding != rc[j].crowding { return rc[i].crowding > rc[j].crowding }
            }
            return ai != aj ? ai > aj : population[i].id > population[j].id
        }
        var out: [Proposal] = []
        var accepted = 0, attempts = 0
        while accepted < count, attempts < count * maxAttemptsPerProposal {
            // A batching operator (LLM) gets every child of the round in one call; the classic
            // one a request per round (tournament, then mutation: the original order).
            let n = variation.batchesRequests ? min(count - accepted, count * maxAttemptsPerProposal - attempts) : 1
            attempts += n
            var requests: [VariationRequest] = []
            for _ in 0..<n {
                var winner = Int.random(in: 0..<population.count, using: &context.rng)
                for _ in 1..<tournamentSize {
                    let c = Int.random(in: 0..<population.count, using: &context.rng)
                    if better(c, winner) { winner = c }
                }
                requests.append(.mutation(population[winner]))
            }
            for o in try await variation.vary(requests, proposer: name, context: &context) {
                out += o.proposals
                if o.hasChild { accepted += 1 }
            }
        }
        return out
    }
}
