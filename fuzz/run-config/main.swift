import TinyForgeSearch

/// The run configuration stored in every run (`runs.config_json`, read back by `--resume`,
/// `runs show`, `explain`, `finish`): `SearchConfig.decode`, then the checks a resumed run
/// applies before doing anything (validate, the embedded space, the objective space, the
/// target). A damaged or hand-edited config must give an error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let config = try? SearchConfig.decode(FuzzInput.text(data, size), source: "fuzz") else { return 0 }
    guard (try? config.validate()) != nil else { return 0 }
    _ = try? config.space()
    _ = try? config.objectiveSpace()
    _ = try? config.resolvedTarget()
    _ = config.settings(rung: 0)
    _ = config.jsonText()
    return 0
}
