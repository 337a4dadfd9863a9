import Foundation

/// The SQL database under a `RunStore`: SQLite (GRDB, the run directory's `run.sqlite`) or
/// PostgreSQL (many named runs in one database). RunStore's queries are written once against
/// this protocol, with `?` placeholders and the `StoreDialect` tokens for what the two SQL
/// dialects spell differently; each backend translates and runs them.
///
/// The API is synchronous because RunStore is: the PostgreSQL backend waits for its event-loop
/// futures from the caller's thread (never from an event-loop thread).
public protocol StoreDatabase: AnyObject, Sendable {
    var dialect: StoreDialect { get }
    /// Runs `body` in one write transaction: everything or nothing is stored.
    func write<T>(_ body: (StoreConnection) throws -> T) throws -> T
    /// Runs `body` with a consistent read view.
    func read<T>(_ body: (StoreConnection) throws -> T) throws -> T
    /// Names of the tables present (a read-only store of an older run lacks later ones).
    func tableNames() throws -> Set<String>
}

/// One connection inside a transaction or read.
public protocol StoreConnection {
    var dialect: StoreDialect { get }
    func execute(_ sql: String, _ arguments: StoreArguments) throws
    func fetchAll(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow]
    /// Runs an INSERT into a table with an `id` column and returns the new row's id.
    func insertReturningID(_ sql: String, _ arguments: StoreArguments) throws -> Int64
}

extension StoreConnection {
    public func execute(_ sql: String) throws { try execute(sql, []) }
    public func fetchOne(_ sql: String, _ arguments: StoreArguments = []) throws -> StoreRow? {
        try fetchAll(sql, arguments).first
    }
    /// The first column of the first row (nil when there is no row or the value is NULL).
    public func fetchValue<T: StoreColumnValue>(_ sql: String, _ arguments: StoreArguments = []) throws -> T? {
        guard let row = try fetchOne(sql, arguments), let first = row.columns.first else { return nil }
        return try Optional<T>.decode(row.values[0], column: first)
    }
}

/// What the two SQL dialects spell differently (the rest of RunStore's SQL is common).
public enum StoreDialect: String, Sendable {
    case sqlite, postgres

    /// The current UTC time as ISO-8601 text with milliseconds (`2026-12-05T08:30:00.123Z`):
    /// timestamps are stored as text in both backends so they read back identically.
    public var now: String {
        switch self {
        case .sqlite: return "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
        case .postgres: return "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        }
    }

    /// The two-argument maximum (SQLite's scalar `MAX(a, b)` is PostgreSQL's `GREATEST`).
    public var greatest: String { self == .sqlite ? "MAX" : "GREATEST" }
}

/// A value bound to a placeholder or read from a column.
public enum StoreValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// Swift values that can be bound to a placeholder.
public protocol StoreBindable { var storeValue: StoreValue { get } }

extension Int: StoreBindable { public var storeValue: StoreValue { .integer(Int64(self)) } }
extension Int64: StoreBindable { public var storeValue: StoreValue { .integer(self) } }
extension Int32: StoreBindable { public var storeValue: StoreValue { .integer(Int64(self)) } }
extension Double: StoreBindable { public var storeValue: StoreValue { .real(self) } }
extension String: StoreBindable { public var storeValue: StoreValue { .text(self) } }
/// Booleans are stored as 1/0 integers in both backends (as SQLite always did).
extension Bool: StoreBindable { public var storeValue: StoreValue { .integer(self ? 1 : 0) } }
extension StoreValue: StoreBindable { public var storeValue: StoreValue { self } }

/// Placeholder values in order; written as an array literal (`[runID, status, nil]`).
public struct StoreArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [StoreValue]

    public init(_ values: [StoreValue]) { self.values = values }
    public init(arrayLiteral elements: (any StoreBindable)?...) {
        values = elements.map { $0?.storeValue ?? .null }
    }

    public static func + (a: StoreArguments, b: StoreArguments) -> StoreArguments { StoreArguments(a.values + b.values) }
    public static func += (a: inout StoreArguments, b: StoreArguments) { a.values += b.values }
}

/// Why a column could not be read as the requested type.
public enum StoreRowError: Error, CustomStringConvertible, Equatable {
    case missingColumn(String, available: [String])
    case unexpectedNull(String)
    case typeMismatch(column: String, expected: String, found: StoreValue)

    public var description: String {
        switch self {
        case let .missingColumn(c, available):
            return "run store query has no column `\(c)` (columns: \(available.joined(separator: ", "))); this is a TinyForge bug"
        case let .unexpectedNull(c):
            return "run store column `\(c)` is NULL where a value is required; the store is damaged"
        case let .typeMismatch(c, expected, found):
            return "run store column `\(c)` holds \(found), expected \(expected); the store is damaged"
        }
    }
}

/// One result row with typed column access by name: `let id: Int64 = try row["id"]`.
public struct StoreRow: Sendable {
    public let columns: [String]
    public let values: [StoreValue]

    public init(columns: [String], values: [StoreValue]) { self.columns = columns; self.values = values }

    public subscript<T: StoreColumnValue>(_ column: String) -> T {
        get throws {
            guard let i = columns.firstIndex(of: column) else { throw StoreRowError.missingColumn(column, available: columns) }
            return try T.decode(values[i], column: column)
        }
    }
}

/// Swift types a column can be read as.
public protocol StoreColumnValue {
    static func decode(_ value: StoreValue, column: String) throws -> Self
}

extension Int64: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> Int64 {
        switch value {
        case .integer(let i): return i
        case .real(let d) where d == d.rounded() && abs(d) < 9e18: return Int64(d)
        case .text(let t) where Int64(t) != nil: return Int64(t)!
        case .null: throw StoreRowError.unexpectedNull(column)
        default: throw StoreRowError.typeMismatch(column: column, expected: "an integer", found: value)
        }
    }
}

extension Int: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> Int { Int(try Int64.decode(value, column: column)) }
}

extension Bool: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> Bool { try Int64.decode(value, column: column) != 0 }
}

extension Double: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> Double {
        switch value {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        case .text(let t) where Double(t) != nil: return Double(t)!
        case .null: throw StoreRowError.unexpectedNull(column)
        default: throw StoreRowError.typeMismatch(column: column, expected: "a number", found: value)
        }
    }
}

extension String: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> String {
        switch value {
        case .text(let t): return t
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .null: throw StoreRowError.unexpectedNull(column)
        }
    }
}

extension Optional: StoreColumnValue where Wrapped: StoreColumnValue {
    public static func decode(_ value: StoreValue, column: String) throws -> Wrapped? {
        value == .null ? nil : try Wrapped.decode(value, column: column)
    }
}
