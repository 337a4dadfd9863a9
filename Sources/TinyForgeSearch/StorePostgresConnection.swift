import Foundation
import PostgresNIO

/// One PostgreSQL session seen through `StoreConnection`: `?` placeholders become `$1…$n`,
/// values are bound with their PostgreSQL types, result cells are read by their type OID.
/// Every call waits for its future on the caller's thread (RunStore's callers never run on
/// an event loop).
struct PostgresStoreConnection: StoreConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// How long one statement may go unanswered before the session is declared lost (closed and
    /// handled like any connection loss). A server whose session was killed does not always
    /// make the client notice; without a bound, a write would hang forever.
    let timeout: TimeAmount
    var dialect: StoreDialect { .postgres }

    func execute(_ sql: String, _ arguments: StoreArguments) throws {
        _ = try run(sql, arguments)
    }

    func fetchAll(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        try run(sql, arguments).map(Self.storeRow)
    }

    func insertReturningID(_ sql: String, _ arguments: StoreArguments) throws -> Int64 {
        guard let row = try run(sql + " RETURNING id", arguments).first else {
            throw PostgresStoreError.server(sqlState: nil, message: "INSERT … RETURNING id returned no row", query: sql)
        }
        return try Self.storeRow(row)["id"]
    }

    /// Runs one statement (no `;`-separated lists with arguments: PostgreSQL's extended protocol
    /// takes one statement per query; argument-less scripts go through `execute` too, which
    /// PostgreSQL accepts without placeholders).
    func run(_ sql: String, _ arguments: StoreArguments) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for v in arguments.values {
            switch v {
            case .null: binds.appendNull()
            case .integer(let i): binds.append(i)
            case .real(let d): binds.append(d)
            case .text(let t): binds.append(t)
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numberedPlaceholders(sql), binds: binds)
        if connection.isClosed { throw PostgresStoreError.noAnswer(seconds: 0) }
        do {
            return try bounded(connection.query(query, logger: logger))
        } catch let e as PSQLError where e.serverInfo != nil {
            throw PostgresStoreError.server(sqlState: e.serverInfo?[.sqlState], message: e.serverInfo?[.message] ?? "\(e.code)", query: sql)
        }
    }

    /// Waits for `future` at most `timeout`; then closes the session and throws `noAnswer`.
    private func bounded<T>(_ future: EventLoopFuture<T>) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        let limit = timeout, connection = connection
        let timer = future.eventLoop.scheduleTask(in: limit) {
            promise.fail(PostgresStoreError.noAnswer(seconds: Double(limit.nanoseconds) / 1e9))
            connection.close().whenComplete { _ in }
        }
        defer { timer.cancel() }
        return try promise.futureResult.wait()
    }

    /// `?` → `$1, $2, …` outside single-quoted literals, double-quoted identifiers and comments.
    static func numberedPlaceholders(_ sql: String) -> String {
        var out = "", n = 0
        var quote: Character? = nil
        for ch in sql {
            if let q = quote {
                out.append(ch)
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    static func storeRow(_ row: PostgresRow) throws -> StoreRow {
        var columns: [String] = [], values: [StoreValue] = []
        for cell in row {
            columns.append(cell.columnName)
            values.append(try storeValue(cell))
        }
        return StoreRow(columns: columns, values: values)
    }

    static func storeValue(_ cell: PostgresCell) throws -> StoreValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric:
            let text = try cell.decode(String.self)
            return Int64(text).map(StoreValue.integer) ?? Double(text).map(StoreValue.real) ?? .text(text)
        default: return .text(try cell.decode(String.self))
        }
    }
}
