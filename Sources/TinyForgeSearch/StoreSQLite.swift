import Foundation
import GRDB

/// The SQLite backend: the run directory's `run.sqlite` through one GRDB `DatabaseQueue`
/// (opened, checked and migrated by `RunStoreAccess`, exactly as before the abstraction).
final class SQLiteStoreDatabase: StoreDatabase, @unchecked Sendable {
    let queue: DatabaseQueue
    let path: String
    var dialect: StoreDialect { .sqlite }

    init(queue: DatabaseQueue, path: String) { self.queue = queue; self.path = path }

    func write<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        try queue.write { try body(SQLiteStoreConnection(db: $0)) }
    }

    func read<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        try queue.read { try body(SQLiteStoreConnection(db: $0)) }
    }

    func tableNames() throws -> Set<String> { try RunStoreAccess.tableNames(queue) }
}

struct SQLiteStoreConnection: StoreConnection {
    let db: Database
    var dialect: StoreDialect { .sqlite }

    func execute(_ sql: String, _ arguments: StoreArguments) throws {
        try db.execute(sql: sql, arguments: Self.statementArguments(arguments))
    }

    func fetchAll(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        try Row.fetchAll(db, sql: sql, arguments: Self.statementArguments(arguments)).map { row in
            var columns: [String] = [], values: [StoreValue] = []
            for (column, value) in row {
                columns.append(column)
                values.append(Self.storeValue(value))
            }
            return StoreRow(columns: columns, values: values)
        }
    }

    func insertReturningID(_ sql: String, _ arguments: StoreArguments) throws -> Int64 {
        try execute(sql, arguments)
        return db.lastInsertedRowID
    }

    static func statementArguments(_ a: StoreArguments) -> StatementArguments {
        StatementArguments(a.values.map { v -> DatabaseValue in
            switch v {
            case .null: return .null
            case .integer(let i): return i.databaseValue
            case .real(let d): return d.databaseValue
            case .text(let t): return t.databaseValue
            }
        })
    }

    static func storeValue(_ v: DatabaseValue) -> StoreValue {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return .integer(i)
        case .double(let d): return .real(d)
        case .string(let s): return .text(s)
        case .blob(let b): return .text(String(decoding: b, as: UTF8.self))
        }
    }
}
