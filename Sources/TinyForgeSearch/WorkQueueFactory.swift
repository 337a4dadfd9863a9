import Foundation

/// The one place that picks a `WorkQueue` implementation for a store, so the controller and
/// the workers never test backends themselves.
extension RunStore {
    /// The controller's queue: it shares this store's connection (and, on PostgreSQL, the
    /// session that holds the run's advisory lock).
    public func workQueue() throws -> WorkQueue {
        switch location {
        case .directory: return try SQLiteWorkQueue(store: self)
        case .postgres(let url): return PostgresWorkQueue(db: db, runID: runID, runName: url.description)
        }
    }

    /// A worker's own connection to the run's queue: never the run lock (the controller holds
    /// it for the whole run), never a migration.
    public static func workerQueue(at location: StoreLocation) throws -> WorkQueue {
        switch location {
        case .directory(let dir): return try SQLiteWorkQueue.open(runDirectory: dir)
        case .postgres(let url): return try PostgresWorkQueue.open(url: url)
        }
    }
}
