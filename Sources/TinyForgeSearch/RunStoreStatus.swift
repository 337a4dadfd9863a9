/// The run store's status columns as types. Raw values are exactly what the tables hold (and,
/// for candidates and finished rows, what their CHECK constraints allow), so stored runs read
/// back unchanged; code compares and writes these cases instead of string literals.

/// `runs.status`.
public enum RunStatus: String, Sendable, CaseIterable {
    case created, running, done, failed, stalled
}

/// `candidates.status`: proposed → evaluating → done | failed, or rejected.
public enum CandidateStatus: String, Sendable, CaseIterable {
    case proposed, rejected, evaluating, done, failed

    /// Candidates whose evaluation is still owed (re-run on resume).
    public static let pending: [CandidateStatus] = [.proposed, .evaluating]
}

/// `jobs.status` (the work queue, schema v5): queued → claimed → done | failed, or back to queued
/// when a lease is released or reclaimed.
public enum JobStatus: String, Sendable, CaseIterable {
    case queued, claimed, done, failed
}

/// `evaluations.status` (`EvaluationResult.Status.name`).
public enum EvaluationStatus: String, Sendable, CaseIterable {
    case ok, diverged, failed
}

extension EvaluationResult.Status {
    /// The stored status of this result.
    public var stored: EvaluationStatus {
        switch self {
        case .ok: return .ok
        case .diverged: return .diverged
        case .failed: return .failed
        }
    }
}
