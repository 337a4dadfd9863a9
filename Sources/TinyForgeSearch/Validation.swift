import TinyForgeHardware
import TinyForgeSpec

/// The verdict on one architecture before any training.
public enum CandidateCheck {
    case accepted(hash: String, cost: CostReport)
    case rejected(kind: Rejection.Kind, reason: String, hash: String, cost: CostReport?)

    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}

/// A candidate that passed every check, ready for evaluation.
public struct AcceptedCandidate {
    public var spec: ArchitectureSpec
    public var hash: String
    public var cost: CostReport
    public var proposal: Proposal
}

/// Validation before training, in this order (the first failing check gives the reason):
/// LLM failure (a failed round's record, nothing to decode) → decode → duplicate (canonical hash, against everything seen in the run, rejected ones
/// included) → structure (`validate()`) → task (classes) → space (`SearchSpace.violations`)
/// → budget (`CostModel.evaluate(...).violations`, their messages verbatim).
public struct CandidateValidator {
    public var space: SearchSpace
    public var task: TaskInfo
    public var target: Target
    public var budget: Budget
    /// Every hash seen in the run (candidates of any status) → a short description used in
    /// duplicate messages ("#12, done").
    public private(set) var seen: [String: String]

    public init(space: SearchSpace, task: TaskInfo, target: Target, budget: Budget, seen: [String: String] = [:]) {
        self.space = space; self.task = task; self.target = target; self.budget = budget; self.seen = seen
    }

    public mutating func markSeen(_ hash: String, as description: String = "proposed earlier in this iteration") {
        if seen[hash] == nil { seen[hash] = description }
    }

    /// Replaces the description once the candidate has a row id (`candidate #12`).
    public mutating func describeSeen(_ hash: String, as description: String) { seen[hash] = description }

    public func isSeen(_ hash: String) -> Bool { seen[hash] != nil }

    /// Hash of text that does not decode, so identical garbage is also caught as a duplicate.
    public static func textHash(_ text: String) -> String { "text-" + SHA256.hex(text) }

    /// Checks a decoded spec (does not mark it seen).
    public func check(_ spec: ArchitectureSpec) -> CandidateCheck {
        let hash = spec.canonicalHash
        if let prior = seen[hash] {
            return .rejected(kind: .duplicate, reason: "duplicate of an architecture already proposed in this run (\(prior)); hash \(hash.prefix(12))", hash: hash, cost: nil)
        }
        do { try spec.validate() } catch {
            return .rejected(kind: .structure, reason: "\(error)", hash: hash, cost: nil)
        }
        if spec.numClasses != task.numClasses {
            return .rejected(kind: .task, reason: "num_classes: \(spec.numClasses) but the data set \(task.dataset) has \(task.numClasses) classes", hash: hash, cost: nil)
        }
        let outside = space.violations(of: spec)
        if !outside.isEmpty {
            return .rejected(kind: .space, reason: "outside search space \(space.name): " + outside.joined(separator: "; "), hash: hash, cost: nil)
        }
        let report = CostModel.evaluate(spec, target: target, budget: budget)
        if !report.fits {
            return .rejected(kind: .budget, reason: report.violations.map(\.message).joined(separator: "; "), hash: hash, cost: report)
        }
        return .accepted(hash: hash, cost: report)
    }

    /// Validates a proposal and marks its hash seen (accepted or not).
    public mutating func validate(_ p: Proposal, iteration: Int) -> Result<AcceptedCandidate, Rejection> {
        if let f = p.llmFailure {
            // Not a duplicate of anything: every failed round is its own row (unique hash).
            var n = 0, hash = ""
            repeat { hash = Self.textHash("llm failure, iteration \(iteration) #\(n): \(f.cause)"); n += 1 } while seen[hash] != nil
            markSeen(hash, as: "LLM failure")
            return .failure(Rejection(kind: .llm, reason: f.cause, hash: hash, proposer: p.proposer, iteration: iteration))
        }
        let spec: ArchitectureSpec
        switch p.content {
        case .spec(let s): spec = s
        case .text(let text):
            do {
                spec = try ArchitectureSpec.decode(jsonText: text, source: "proposal",
                                                   defaults: PaperImportDefaults(numClasses: task.numClasses,
                                                                                 resolution: space.resolutions.first ?? 160,
                                                                                 dropout: space.dropout)).spec
            } catch {
                let hash = Self.textHash(text)
                let kind: Rejection.Kind = seen[hash] != nil ? .duplicate : .decode
                let reason = kind == .duplicate ? "duplicate of text already proposed in this run (\(seen[hash]!))" : "does not decode: \(error)"
                markSeen(hash)
                return .failure(Rejection(kind: kind, reason: reason, hash: hash, proposer: p.proposer, iteration: iteration))
            }
        }
        switch check(spec) {
        case let .accepted(hash, cost):
            markSeen(hash)
            return .success(AcceptedCandidate(spec: spec, hash: hash, cost: cost, proposal: p))
        case let .rejected(kind, reason, hash, cost):
            markSeen(hash)
            let why = p.repairFailure.map { reason + "; repair failed: " + $0 } ?? reason
            return .failure(Rejection(kind: kind, reason: why, hash: hash, proposer: p.proposer, iteration: iteration,
                                      spec: spec, cost: cost.map(CostSummary.init)))
        }
    }
}
