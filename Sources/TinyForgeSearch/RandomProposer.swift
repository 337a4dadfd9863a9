import TinyForgeSpec

/// Uniform samples of the search space (`SearchSpace.sample`).
///
/// Budget-aware by rejection when `resampleRejected` is on: a sample the validator would reject
/// (over budget, duplicate) is returned too, so it is recorded, and another is drawn in its
/// place, up to `maxAttemptsPerProposal` draws per requested proposal.
public struct RandomProposer: Proposer {
    public var name: String { "random" }
    public var resampleRejected: Bool
    public var maxAttemptsPerProposal: Int

    public init(resampleRejected: Bool = true, maxAttemptsPerProposal: Int = 50) {
        self.resampleRejected = resampleRejected
        self.maxAttemptsPerProposal = maxAttemptsPerProposal
    }

    public func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal] {
        var out: [Proposal] = []
        var accepted = 0, attempts = 0
        while accepted < count, attempts < count * max(1, resampleRejected ? maxAttemptsPerProposal : 1) {
            attempts += 1
            let spec = try context.space.sample(numClasses: context.task.numClasses, using: &context.rng)
            out.append(Proposal(.spec(spec), proposer: name))
            if !resampleRejected || context.check(spec).isAccepted { accepted += 1 }
            context.reserve(spec)
        }
        return out
    }

    /// Fresh samples for proposers that need an initial population; same resampling rule.
    static func initial(count: Int, proposer: String, context: inout ProposalContext) throws -> [Proposal] {
        var out: [Proposal] = []
        var accepted = 0, attempts = 0
        while accepted < count, attempts < count * 50 {
            attempts += 1
            let spec = try context.space.sample(numClasses: context.task.numClasses, using: &context.rng)
            out.append(Proposal(.spec(spec), proposer: proposer, change: "random initial sample"))
            if context.check(spec).isAccepted { accepted += 1 }
            context.reserve(spec)
        }
        return out
    }
}
