/// TinyForgeSpec: the one description of a network (`ArchitectureSpec`), its JSON codecs,
/// validation with field paths, canonical form and hash, and the search space.
public enum TinyForgeSpecInfo {
    public static let formatVersion = 1
}
