/// POSIX shell quoting for the batch script: every word in single quotes, a single quote
/// written as `'\''`, so no character of a worker argument (spaces, `$`, `?`, `&`, quotes,
/// newlines) is ever interpreted by the shell. Words made only of safe characters stay bare
/// so the script reads naturally.
public enum ShellQuote {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")

    public static func word(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func line(_ words: [String]) -> String {
        words.map(word).joined(separator: " ")
    }
}
