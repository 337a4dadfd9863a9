import TinyForgeSpec

/// One child wanted from a variation operator: a mutation of `parents[0]` or a crossover of
/// `parents[0]` and `parents[1]`.
public struct VariationRequest: Sendable {
    public enum Kind: String, Sendable { case mutation, crossover }
    public var kind: Kind
    public var parents: [EvaluatedCandidate]

    public static func mutation(_ p: EvaluatedCandidate) -> VariationRequest { VariationRequest(kind: .mutation, parents: [p]) }
    public static func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate) -> VariationRequest {
        VariationRequest(kind: .crossover, parents: [a, b])
    }
}

/// What a variation operator made for one request.
public struct VariationOutcome: Sendable {
    /// Every proposal made for the request, in order: rejected attempts too, so the controller
    /// records them with their reasons. Spec proposals are already checked and reserved in the
    /// context.
    public var proposals: [Proposal]
    /// One of `proposals` passed `ProposalContext.check` (or is text only the controller can
    /// judge): the request got its child.
    public var hasChild: Bool

    public init(proposals: [Proposal] = [], hasChild: Bool = false) { self.proposals = proposals; self.hasChild = hasChild }
}

/// How evolution and NSGA-II make children. The classic operator uses `SearchSpace.mutate` /
/// `crossover`; `LLMVariation` (EvoPrompting-style) prompts a model with the parents' specs and
/// measurements and answers a whole batch of requests with one exchange (`vary`).
public protocol VariationOperator {
    var name: String { get }
    /// true: `vary` answers a batch at once (one LLM exchange for all children of a round), so
    /// the proposers select every parent of a round before asking. false (default): one request
    /// per round, which keeps the classic proposers' random-number order (and their results
    /// for a given seed) unchanged.
    var batchesRequests: Bool { get }
    /// A child of `spec`. `parents` are the evaluated candidates it descends from (their
    /// scores are context for a model); nil = no child could be made.
    func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String,
                context: inout ProposalContext) async throws -> Proposal?
    /// A child mixing `a` and `b`; nil = none could be made.
    func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String,
                   context: inout ProposalContext) async throws -> Proposal?
    /// One outcome per request, same order. Default: `mutate` / `crossover` per request, each
    /// spec child checked and reserved.
    func vary(_ requests: [VariationRequest], proposer: String,
              context: inout ProposalContext) async throws -> [VariationOutcome]
}

extension VariationOperator {
    public var batchesRequests: Bool { false }

    public func vary(_ requests: [VariationRequest], proposer: String,
                     context: inout ProposalContext) async throws -> [VariationOutcome] {
        var out: [VariationOutcome] = []
        for r in requests {
            let child: Proposal?
            switch r.kind {
            case .mutation: child = try await mutate(r.parents[0].spec, parents: r.parents, proposer: proposer, context: &context)
            case .crossover: child = try await crossover(r.parents[0], r.parents[1], proposer: proposer, context: &context)
            }
            out.append(child.map { VariationOutcome(proposals: [$0], hasChild: context.take($0)) } ?? VariationOutcome())
        }
        return out
    }
}

extension ProposalContext {
    /// Checks a proposal and reserves its spec; true when it is acceptable now (text counts as
    /// acceptable: only the controller can decode and judge it).
    public mutating func take(_ p: Proposal) -> Bool {
        guard let s = p.spec else { return true }
        let ok = check(s).isAccepted
        reserve(s)
        return ok
    }
}

/// Mutation changes exactly one field to another allowed value (`SearchSpace.mutate`);
/// crossover is uniform over stages (`SearchSpace.crossover`). Both stay inside the space.
/// A child over the budget is repaired (`SpecRepair`; origin `mutation+repair` /
/// `crossover+repair`, both specs stored) instead of discarded, when `repair` is on; the repair
/// draws no random numbers, so runs stay a function of the seed.
public struct ClassicVariation: VariationOperator {
    public var name: String { "classic" }
    public var repair: Bool
    public init(repair: Bool = true) { self.repair = repair }

    public func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String,
                       context: inout ProposalContext) async throws -> Proposal? {
        guard let (child, change) = context.space.mutate(spec, using: &context.rng) else { return nil }
        let p = Proposal(.spec(child), proposer: proposer, parents: parents.map(\.hash), change: change)
        return repair ? context.repaired(p, origin: "mutation+repair") : p
    }

    public func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String,
                          context: inout ProposalContext) async throws -> Proposal? {
        guard let child = context.space.crossover(a.spec, b.spec, using: &context.rng) else { return nil }
        let p = Proposal(.spec(child), proposer: proposer, parents: [a.hash, b.hash], change: "crossover")
        return repair ? context.repaired(p, origin: "crossover+repair") : p
    }
}
