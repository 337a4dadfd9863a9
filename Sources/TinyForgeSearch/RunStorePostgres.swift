import Foundation

/// Opening a run by `StoreLocation`: a run directory goes to the SQLite paths unchanged; a
/// PostgreSQL URL opens (or creates) the named run in that database.
extension RunStore {
    /// Creates a new run (`tinyforge search`). PostgreSQL: migrates the database, takes the
    /// run's advisory lock, refuses a NAME that exists, and creates the local output directory.
    public static func create(at location: StoreLocation, config: SearchConfig,
                              lock options: RunLock.Options = .init(command: "search")) throws -> RunStore {
        guard case .postgres(let url) = location else { return try create(directory: location.localDirectory, config: config, lock: options) }
        try refuseBreakLock(options, url)
        let db = try PostgresStoreDatabase(url: url, command: options.command)
        try StorePostgresSchema.migrate(db, description: url.databaseDescription)
        func refuseExisting(_ c: StoreConnection) throws {
            if try c.fetchOne("SELECT id FROM runs WHERE name = ?", [url.run]) != nil {
                throw PostgresStoreError.runExists(database: url.databaseDescription, run: url.run)
            }
        }
        try db.read(refuseExisting)
        try db.lockRun(url.run)
        // Checked again under the lock: two creators of one NAME cannot both pass (and UNIQUE(name) backs it).
        let id: Int64 = try db.write { c in
            try refuseExisting(c)
            return try insertRun(c, name: url.run, config: config)
        }
        try FileManager.default.createDirectory(at: url.localDirectory, withIntermediateDirectories: true)
        return RunStore(location: location, db: db, runID: id, lock: nil, readOnly: false, tables: try db.tableNames())
    }

    /// `--break-lock` breaks stale file locks only: a PostgreSQL run lock lives exactly as long as
    /// its holder's session, so there is nothing stale to break from here.
    private static func refuseBreakLock(_ options: RunLock.Options, _ url: PostgresStoreURL) throws {
        guard options.breakStale else { return }
        throw SearchError("--break-lock", "applies to run directories; the lock of \(url) ends with its holder's database session "
                          + "(a dead holder's session is dropped by the server; SELECT pg_terminate_backend(PID) on the server ends it at once)")
    }

    /// Opens an existing run for writing (resume, finish, explain, compare): migrates, takes the
    /// run lock (refused while another controller holds it, on any machine).
    public static func open(at location: StoreLocation, lock options: RunLock.Options = .init()) throws -> RunStore {
        guard case .postgres(let url) = location else { return try open(directory: location.localDirectory, lock: options) }
        try refuseBreakLock(options, url)
        let db = try PostgresStoreDatabase(url: url, command: options.command)
        try StorePostgresSchema.migrate(db, description: url.databaseDescription)
        let id = try runID(db, url)
        try db.lockRun(url.run)
        try FileManager.default.createDirectory(at: url.localDirectory, withIntermediateDirectories: true)
        return RunStore(location: location, db: db, runID: id, lock: nil, readOnly: false, tables: try db.tableNames())
    }

    /// Opens an existing run for reading only: no lock, no migration, nothing created or changed.
    public static func openReadOnly(at location: StoreLocation) throws -> RunStore {
        guard case .postgres(let url) = location else { return try openReadOnly(directory: location.localDirectory) }
        let db = try PostgresStoreDatabase(url: url, command: "read")
        let applied = try db.read { try StorePostgresSchema.appliedVersions($0, description: url.databaseDescription, creating: false) }
        guard applied != nil else { throw PostgresStoreError.unknownRun(database: url.databaseDescription, run: url.run, known: []) }
        return RunStore(location: location, db: db, runID: try runID(db, url), lock: nil, readOnly: true, tables: try db.tableNames())
    }

    /// Whether the location already holds its run (`search` without `--resume` creates it otherwise).
    public static func exists(at location: StoreLocation) throws -> Bool {
        guard case .postgres(let url) = location else {
            return FileManager.default.fileExists(atPath: location.localDirectory.appendingPathComponent(fileName).path)
        }
        let db = try PostgresStoreDatabase(url: url, command: "read")
        guard try db.read({ try StorePostgresSchema.appliedVersions($0, description: url.databaseDescription, creating: false) }) != nil else {
            return false
        }
        return try db.read { try $0.fetchOne("SELECT id FROM runs WHERE name = ?", [url.run]) } != nil
    }

    /// The names of the runs in a PostgreSQL run store, oldest first.
    public static func runNames(_ db: StoreDatabase) throws -> [String] {
        try db.read { try $0.fetchAll("SELECT name FROM runs ORDER BY id", []).map { try $0["name"] as String } }
    }

    private static func runID(_ db: PostgresStoreDatabase, _ url: PostgresStoreURL) throws -> Int64 {
        let id: Int64? = try db.read { try $0.fetchValue("SELECT id FROM runs WHERE name = ?", [url.run]) }
        guard let id else {
            throw PostgresStoreError.unknownRun(database: url.databaseDescription, run: url.run, known: try runNames(db))
        }
        return id
    }
}
