/// Errors of the search module; every message names the field or file and the fix.
public struct SearchError: Error, CustomStringConvertible, Equatable, Sendable {
    public var field: String
    public var message: String
    public init(_ field: String, _ message: String) { self.field = field; self.message = message }
    public var description: String { "\(field): \(message)" }
}
