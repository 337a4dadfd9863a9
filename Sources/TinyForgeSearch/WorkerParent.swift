import CTinyForgeSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Worker side of "workers die with their parent". `ProcessEvaluator` puts its pid in
/// `TINYFORGE_PARENT_PID`; `tinyforge evaluate-candidate` calls `arm()` first thing, which asks
/// the kernel for SIGKILL when the parent goes (Linux `PR_SET_PDEATHSIG`; `kill -9` of the
/// search included, so no worker trains on for up to `--timeout` seconds), then checks the
/// parent is still the expected one: if it died before the request took effect the worker was
/// re-parented already and must stop at once.
public enum WorkerParent {
    public static let environmentVariable = "TINYFORGE_PARENT_PID"

    public enum Outcome: Equatable, Sendable {
        /// Not started by a search (no variable): nothing to do.
        case notRequested
        /// The death signal is set and the parent is alive.
        case armed(parent: Int32)
        /// The parent died before the worker got going: exit now.
        case parentGone(expected: Int32, actual: Int32)
        /// The variable is not a pid, or the kernel refused the request.
        case failed(String)
    }

    public static func arm(environment: [String: String] = ProcessInfo.processInfo.environment) -> Outcome {
        guard let text = environment[environmentVariable] else { return .notRequested }
        guard let expected = Int32(text), expected > 1 else {
            return .failed("\(environmentVariable)=\(text) is not a parent process id; it is set by tinyforge search, unset it to run a worker by hand")
        }
        // Request first, check second: a parent dying in between is then caught by the check.
        if tinyforge_set_parent_death_signal(SIGKILL) != 0 {
            return .failed("prctl(PR_SET_PDEATHSIG) failed: " + String(cString: strerror(errno)))
        }
        let actual = getppid()
        return actual == expected ? .armed(parent: expected) : .parentGone(expected: expected, actual: actual)
    }
}
