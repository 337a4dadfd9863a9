import Foundation

/// Why a run store could not be opened. Each message names the file and the fix.
public enum RunStoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is not an SQLite database at all (damaged, truncated, or some other file).
    case notADatabase(file: String, reason: String)
    /// A valid SQLite database without TinyForge's tables (some other program's database).
    case notARunStore(file: String, tables: [String])
    /// A TinyForge store written by a newer version (migrations this binary does not know).
    case newerSchema(file: String, unknown: [String])
    /// SQLite refused to open or read it (permissions, locked by a crashed process, I/O error).
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case let .notADatabase(f, r):
            return "\(f) is not a TinyForge run store: it is not an SQLite database (\(r)). The file is damaged or was replaced; "
                + "restore it from a backup, or start a new run in another directory (tinyforge search --run NEWDIR ...)"
        case let .notARunStore(f, tables):
            let found = tables.isEmpty ? "no tables" : "tables " + tables.prefix(8).joined(separator: ", ") + (tables.count > 8 ? ", ..." : "")
            return "\(f) is not a TinyForge run store: it is an SQLite database with \(found) but no `runs` table; "
                + "pass the directory of a run written by tinyforge search (it was left unchanged)"
        case let .newerSchema(f, unknown):
            return "\(f) was written by a newer TinyForge (schema steps \(unknown.joined(separator: ", ")) are unknown to this version); "
                + "use that version or a newer one"
        case let .unreadable(f, r):
            return "\(f): cannot open the run store (\(r)); check the file's permissions and that the disk is readable"
        }
    }
}
