import TinyForgeSpec

/// How evolution and NSGA-II make children. The classic operator uses `SearchSpace.mutate` /
/// `crossover`; an LLM operator (EvoPrompting-style) can implement the same two calls by
/// prompting with the parents' specs and scores, returning `.text` proposals with exchanges.
public protocol VariationOperator {
    var name: String { get }
    /// A child of `spec`. `parents` are the evaluated candidates it descends from (their
    /// scores are context for a model); nil = no child could be made.
    func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String,
                context: inout ProposalContext) async throws -> Proposal?
    /// A child mixing `a` and `b`; nil = none could be made.
    func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String,
                   context: inout ProposalContext) async throws -> Proposal?
}

/// Mutation changes exactly one field to another allowed value (`SearchSpace.mutate`);
/// crossover is uniform over stages (`SearchSpace.crossover`). Both stay inside the space.
public struct ClassicVariation: VariationOperator {
    public var name: String { "classic" }
    public init() {}

    public func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String,
                       context: inout ProposalContext) async throws -> Proposal? {
        guard let (child, change) = context.space.mutate(spec, using: &context.rng) else { return nil }
        return Proposal(.spec(child), proposer: proposer, parents: parents.map(\.hash), change: change)
    }

    public func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String,
                          context: inout ProposalContext) async throws -> Proposal? {
        guard let child = context.space.crossover(a.spec, b.spec, using: &context.rng) else { return nil }
        return Proposal(.spec(child), proposer: proposer, parents: [a.hash, b.hash], change: "crossover")
    }
}
