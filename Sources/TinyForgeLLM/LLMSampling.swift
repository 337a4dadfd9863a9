import Foundation
import TinyForgeSpec

/// A sampling value that cannot be used, naming the flag or environment variable it came from.
public enum LLMSamplingError: Error, Equatable, CustomStringConvertible {
    case outOfRange(field: String, value: String, allowed: String)
    case notANumber(field: String, text: String)
    case unknownPreset(field: String, name: String)
    case emptyModel(field: String)
    case needsLLMProposer(field: String, proposer: String)

    public var description: String {
        switch self {
        case let .outOfRange(f, v, allowed): return "\(f): \(v) is outside \(allowed)"
        case let .notANumber(f, t): return "\(f): \"\(t)\" is not a number"
        case let .unknownPreset(f, n):
            return "\(f): \"\(n)\" is not a preset; use one of \(LLMSampling.presets.keys.sorted().joined(separator: ", "))"
        case let .emptyModel(f): return "\(f): is empty; name the model (any name for llama.cpp's server)"
        case let .needsLLMProposer(f, p):
            return "\(f): only applies to an LLM proposer (llm, llm+random, evolution+llm, nsga2+llm), not \(p)"
        }
    }
}

/// The LLM sampling a run uses: model name, temperature, top-p, min-p and the generation
/// limit. Stored in the run's config (resolved, every value filled in) so `--resume` and a
/// reader of the run know exactly what the model was asked with; sent in every request body.
///
/// Sources, later wins: the client's defaults < `TINYFORGE_LLM_PRESET` < the other
/// `TINYFORGE_LLM_*` variables < `--llm-preset` < the other `--llm-*` flags. So a flag beats
/// the environment and an explicit value beats a preset.
public struct LLMSampling: Codable, Sendable, Equatable {
    public var model: String?
    public var temperature: Double?
    public var topP: Double?
    public var minP: Double?
    public var maxTokens: Int?
    /// The preset the values started from, for the record.
    public var preset: String?

    public init(model: String? = nil, temperature: Double? = nil, topP: Double? = nil, minP: Double? = nil,
                maxTokens: Int? = nil, preset: String? = nil) {
        self.model = model; self.temperature = temperature; self.topP = topP; self.minP = minP
        self.maxTokens = maxTokens; self.preset = preset
    }

    enum CodingKeys: String, CodingKey {
        case model, temperature, preset
        case topP = "top_p", minP = "min_p", maxTokens = "max_tokens"
    }

    /// `paper`: temperature 1.5 with min-p 0.1, the sampling of the published LLM-guided search
    /// this project reproduces (/work/shared/MISSION-NOTES.md, "Search loop as published"):
    /// a high temperature for diverse proposals, min-p to cut the incoherent tail it opens.
    public static let presets: [String: LLMSampling] = ["paper": LLMSampling(temperature: 1.5, minP: 0.1, preset: "paper")]

    /// Where a value came from, for error messages.
    public enum Source: Sendable {
        case flags, environment
        func name(_ field: String) -> String {
            switch self {
            case .flags: return "--llm-" + field.replacingOccurrences(of: "_", with: "-")
            case .environment: return "TINYFORGE_LLM_" + field.uppercased()
            }
        }
    }

    /// `self` with every value `other` sets replaced.
    public func overridden(by other: LLMSampling) -> LLMSampling {
        LLMSampling(model: other.model ?? model, temperature: other.temperature ?? temperature, topP: other.topP ?? topP,
                    minP: other.minP ?? minP, maxTokens: other.maxTokens ?? maxTokens, preset: other.preset ?? preset)
    }

    public var isEmpty: Bool { self == LLMSampling() }

    /// The named preset, or an error naming `source`'s preset field.
    public static func preset(_ name: String, source: Source) throws -> LLMSampling {
        guard let p = presets[name.lowercased()] else { throw LLMSamplingError.unknownPreset(field: source.name("preset"), name: name) }
        return p
    }

    /// Checks every set value; errors name the flag or variable of `source`.
    public func validate(source: Source) throws {
        if let m = model, m.trimmingCharacters(in: .whitespaces).isEmpty { throw LLMSamplingError.emptyModel(field: source.name("model")) }
        if let t = temperature, !(t >= 0 && t <= 5) {
            throw LLMSamplingError.outOfRange(field: source.name("temperature"), value: "\(t)", allowed: "0...5")
        }
        if let p = topP, !(p > 0 && p <= 1) { throw LLMSamplingError.outOfRange(field: source.name("top_p"), value: "\(p)", allowed: "(0, 1]") }
        if let p = minP, !(p >= 0 && p < 1) { throw LLMSamplingError.outOfRange(field: source.name("min_p"), value: "\(p)", allowed: "[0, 1)") }
        if let n = maxTokens, !(1...131_072).contains(n) {
            throw LLMSamplingError.outOfRange(field: source.name("max_tokens"), value: "\(n)", allowed: "1...131072")
        }
    }

    /// The `TINYFORGE_LLM_*` layer: its preset first, then its values; validated.
    public static func fromEnvironment(_ env: [String: String]) throws -> LLMSampling {
        func value(_ field: String) -> String? {
            env[Source.environment.name(field)].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func number(_ field: String) throws -> Double? {
            guard let t = value(field) else { return nil }
            guard let d = Double(t), d.isFinite else { throw LLMSamplingError.notANumber(field: Source.environment.name(field), text: t) }
            return d
        }
        var maxTokens: Int?
        if let t = value("max_tokens") {
            guard let n = Int(t) else { throw LLMSamplingError.notANumber(field: Source.environment.name("max_tokens"), text: t) }
            maxTokens = n
        }
        let values = LLMSampling(model: value("model"), temperature: try number("temperature"), topP: try number("top_p"),
                                 minP: try number("min_p"), maxTokens: maxTokens)
        try values.validate(source: .environment)
        let base = try value("preset").map { try preset($0, source: .environment) } ?? LLMSampling()
        return base.overridden(by: values)
    }

    /// Environment layer, then the flags' preset, then the flags' values (see the type's doc).
    public static func resolve(flags: LLMSampling, flagPreset: String?, environment: [String: String]) throws -> LLMSampling {
        try flags.validate(source: .flags)
        var s = try fromEnvironment(environment)
        if let p = flagPreset { s = s.overridden(by: try preset(p, source: .flags)) }
        return s.overridden(by: flags)
    }

    /// Sets the values this sampling has on a client configuration.
    public func apply(to c: inout LLMConfig) {
        if let m = model { c.model = m }
        if let t = temperature { c.temperature = t }
        if let p = topP { c.topP = p }
        if let p = minP { c.minP = p }
        if let n = maxTokens { c.maxTokens = n }
    }

    /// Every value as `config` would send it (after `apply`): what a run stores.
    public func resolved(against config: LLMConfig) -> LLMSampling {
        var c = config
        apply(to: &c)
        return LLMSampling(model: c.model, temperature: c.temperature, topP: c.topP, minP: c.minP, maxTokens: c.maxTokens, preset: preset)
    }

    /// `model local, temperature 1.5, top_p server default, min_p 0.1, max_tokens 1800 (preset paper)`.
    public var summary: String {
        func f(_ x: Double?) -> String { x.map { String(format: "%g", $0) } ?? "server default" }
        return "model \(model ?? "default"), temperature \(f(temperature)), top_p \(f(topP)), min_p \(f(minP)), "
            + "max_tokens \(maxTokens.map(String.init) ?? "default")" + (preset.map { " (preset \($0))" } ?? "")
    }

    public var jsonValue: JSONValue {
        func opt(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        return ["model": model.map { .string($0) } ?? .null, "temperature": opt(temperature), "top_p": opt(topP),
                "min_p": opt(minP), "max_tokens": maxTokens.map { .number(Double($0)) } ?? .null,
                "preset": preset.map { .string($0) } ?? .null]
    }
}
