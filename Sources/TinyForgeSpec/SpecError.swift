/// An error in an architecture, a search space or a budget, located by a field path.
///
/// The message always says what was found and what is allowed, e.g.
/// `stages[2].kernel: 9 is not one of 3, 5, 7`.
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Several errors found at once (validation reports every problem, not just the first).
public struct SpecErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
