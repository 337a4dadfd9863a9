import TinyForgeSpec

/// One item of a reply after decoding: an architecture inside the space, or the reason it
/// is not (phrased so it can be shown to the LLM in the next prompt).
public struct DecodedCandidate: Sendable {
    /// Position in the reply's candidate list.
    public var index: Int
    /// The item as the LLM wrote it (rationale included).
    public var raw: JSONValue
    public var rationale: String?
    /// The item as our full architecture JSON (task and fixed fields filled in): what a
    /// validator elsewhere can decode again. nil when the item was not an object.
    public var expanded: JSONValue?
    /// The network; nil when rejected.
    public var spec: ArchitectureSpec?
    /// Why it was rejected, e.g. `stages[2].kernel: 9 is not one of 3, 5`; nil when accepted.
    public var rejection: String?
    /// Values normalised on the way (e.g. an SE ratio on a conv block).
    public var notes: [String]
    /// The `"slot"` value the item named (budget-targeted prompts), as written; nil = none.
    public var slot: JSONValue? = nil
    /// The network as decoded even when it was rejected for being outside the space or a
    /// duplicate (nil when it did not decode at all): what `SpecRepair` can work on.
    public var decoded: ArchitectureSpec? = nil

    public var accepted: Bool { spec != nil }
}

/// Turns reply items into `ArchitectureSpec`s of the space: fills in what the task and the
/// space fix (`CandidateFormat.expand`), decodes with `ArchitectureSpec.decode` (field paths,
/// unknown keys), then checks membership with `SearchSpace.violations(of:)` and duplicates.
public struct CandidateDecoder: Sendable {
    public var format: CandidateFormat
    public var task: LLMTask

    public init(space: SearchSpace, task: LLMTask) {
        self.format = CandidateFormat(space: space)
        self.task = task
    }

    public init(format: CandidateFormat, task: LLMTask) { self.format = format; self.task = task }

    /// Decodes every item. `known` = canonical hashes of architectures already evaluated or
    /// proposed: such items are rejected as duplicates, as are repeats within the reply.
    public func decode(_ items: [JSONValue], known: Set<String> = []) -> [DecodedCandidate] {
        var seen: [String: Int] = [:]
        return items.enumerated().map { i, item in
            var d = decodeOne(item, index: i)
            if let spec = d.spec {
                let h = spec.canonicalHash
                if known.contains(h) {
                    d.spec = nil
                    d.rejection = "duplicate of an architecture already evaluated (hash \(spec.shortHash)); propose something different"
                } else if let j = seen[h] {
                    d.spec = nil
                    d.rejection = "duplicate of candidate \(j) in the same reply"
                } else {
                    seen[h] = i
                }
            }
            return d
        }
    }

    public func decodeOne(_ item: JSONValue, index: Int) -> DecodedCandidate {
        var d = DecodedCandidate(index: index, raw: item, rationale: nil, expanded: nil, spec: nil, rejection: nil, notes: [])
        guard case .object(var o) = item else {
            d.rejection = "expected an architecture object, found \(item.typeName)"
            return d
        }
        if case .string(let r)? = o["rationale"] { d.rationale = r }
        d.slot = o.removeValue(forKey: "slot")  // not a network field: the proposer checks it
        let (json, notes) = format.expand(o, task: task)
        d.notes = notes
        d.expanded = json
        let spec: ArchitectureSpec
        do {
            spec = try ArchitectureSpec.decodeOurs(json)
        } catch let e as SpecErrors {
            d.rejection = e.errors.map(\.description).joined(separator: "; ")
            return d
        } catch {
            d.rejection = "\(error)"
            return d
        }
        d.decoded = spec
        let v = format.space.violations(of: spec)
        if !v.isEmpty {
            d.rejection = v.joined(separator: "; ")
            return d
        }
        d.spec = spec
        return d
    }
}
