import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TinyForgeSpec

/// What differs between chat APIs: the endpoint, the request body, how to read a reply.
/// The attempt loop (retries, backoff, downgrade, records) is shared in `ChatTransport`.
protocol ChatDialect: Sendable {
    var providerName: String { get }
    var path: String { get }
    func body(for request: LLMRequest, config: LLMConfig, mode: StructuredOutputMode) -> JSONValue
    /// The assistant text and metadata from a 2xx body; throws `badReply` with the reason.
    func parseReply(_ body: JSONValue) throws -> ParsedChatReply
}

struct ParsedChatReply {
    var text: String
    var finishReason: String?
    var model: String?
    var promptTokens: Int?
    var completionTokens: Int?
}

/// Raw outcome of one POST.
struct HTTPOutcome {
    var status: Int?
    var headers: [String: String] = [:]
    var body: Data = Data()
    var error: URLError?
    var latencyMs: Double
}

/// The attempt loop shared by every client: one POST per attempt, a record per attempt,
/// retries with exponential backoff and seeded jitter on timeouts, connection failures, 5xx
/// and 429 (honouring `Retry-After`), no retry on other 4xx, and a step down of the
/// structured-output mode when the server's error names `response_format`.
final class ChatTransport: @unchecked Sendable {
    let config: LLMConfig
    let dialect: ChatDialect
    private let apiKey: String?
    private let session: URLSession
    private let lock = NSLock()
    /// The mode that last worked (or the configured one): later requests skip known refusals.
    private var mode: StructuredOutputMode

    init(config: LLMConfig, dialect: ChatDialect, apiKey: String?) {
        self.config = config
        self.dialect = dialect
        self.apiKey = apiKey
        self.mode = config.structuredOutput
        let sc = URLSessionConfiguration.ephemeral
        // Backstops only: corelibs Foundation truncates these to whole seconds (0.6 s → immediate),
        // so `post` enforces `timeoutSeconds` itself with a timer that cancels the task.
        sc.timeoutIntervalForRequest = config.timeoutSeconds.rounded(.up) + 1
        sc.timeoutIntervalForResource = config.timeoutSeconds.rounded(.up) + 30
        sc.httpMaximumConnectionsPerHost = 1
        sc.urlCache = nil
        self.session = URLSession(configuration: sc)
    }

    deinit { session.finishTasksAndInvalidate() }

    var currentMode: StructuredOutputMode { lock.lock(); defer { lock.unlock() }; return mode }
    private func setMode(_ m: StructuredOutputMode) { lock.lock(); mode = m; lock.unlock() }

    var endpoint: String { config.normalizedBaseURL + dialect.path }

    func complete(_ request: LLMRequest) async throws -> LLMResponse {
        guard let url = URL(string: endpoint), url.scheme == "http" || url.scheme == "https" else {
            throw LLMClientError(kind: .configuration, message: "llm.base_url \"\(config.baseURL)\" is not an http(s) URL; write e.g. http://127.0.0.1:8085")
        }
        var mode = request.schema == nil ? StructuredOutputMode.none : currentMode
        var exchanges: [LLMExchange] = []
        var attempt = 0, failures = 0, downgrades = 0
        let seed = request.seed ?? config.seed
        var jitter = SeededGenerator(seed: seed ?? 0x5EED, stream: 0xBAC0FF)
        while true {
            attempt += 1
            let bodyValue = dialect.body(for: request, config: config, mode: mode)
            let bodyText = bodyValue.canonicalText()
            let started = Date()
            let outcome = await post(url: url, body: Data(bodyText.utf8))
            var ex = LLMExchange(attempt: attempt, timestamp: Clock.timestamp(started), provider: dialect.providerName,
                                 url: endpoint, requestBody: redact(bodyText), httpStatus: outcome.status,
                                 latencyMs: outcome.latencyMs)
            let bodyString = String(decoding: outcome.body.prefix(LLMExchange.maxStoredBodyChars), as: UTF8.self)

            // Transport failure: no HTTP response at all.
            if let err = outcome.error {
                let (kind, text) = describe(err)
                ex.error = text
                failures += 1
                // A timed-out request may still be generating on a one-request-at-a-time server
                // (llama-cpp-python): a retry would queue behind it, so such configs skip it.
                let retry = kind != .timeout || config.retryOnTimeout != false
                if retry, failures <= config.retries {
                    let d = backoff(failures, &jitter)
                    ex.action = "retry after \(fmt(d)) s"
                    exchanges.append(ex)
                    try await sleep(d)
                    continue
                }
                exchanges.append(ex)
                throw LLMClientError(kind: kind, message: "\(text) (\(attempt) attempt\(attempt == 1 ? "" : "s"))",
                                     status: nil, exchanges: exchanges)
            }
            let status = outcome.status ?? 0
            if outcome.body.count > config.maxResponseBytes {
                ex.error = "reply too large: response body of \(outcome.body.count) bytes exceeds llm.max_response_bytes \(config.maxResponseBytes)"
                ex.responseText = redact(String(bodyString.prefix(2000)))
                exchanges.append(ex)
                throw LLMClientError(kind: .tooLarge, message: ex.error! + "; lower max_tokens or raise the cap", exchanges: exchanges)
            }
            if !(200..<300).contains(status) {
                ex.responseText = redact(bodyString)
                ex.error = "HTTP \(status): \(redact(String(bodyString.prefix(300))))"
                // A refusal of the structured-output request itself: try the next mode.
                if config.autoDowngrade, status != 429, status >= 400, mode != .none, downgrades < 3,
                   Self.namesResponseFormat(bodyString), let next = mode.next {
                    ex.action = "downgrade response_format \(mode.rawValue) → \(next.rawValue)"
                    exchanges.append(ex)
                    mode = next; downgrades += 1
                    setMode(next)
                    continue
                }
                if status == 429 || status >= 500 {
                    failures += 1
                    if failures <= config.retries {
                        var d = backoff(failures, &jitter)
                        if let ra = outcome.headers["retry-after"].flatMap(Self.parseRetryAfter) {
                            d = max(d, min(ra, config.maxRetryAfterSeconds))
                        }
                        ex.action = "retry after \(fmt(d)) s"
                        exchanges.append(ex)
                        try await sleep(d)
                        continue
                    }
                }
                exchanges.append(ex)
                throw LLMClientError(kind: .http, message: "HTTP \(status) from \(endpoint): \(redact(Self.serverMessage(bodyString)))\(fixHint(status))",
                                     status: status, exchanges: exchanges)
            }
            return try readReply(outcome, exchange: ex, exchanges: exchanges, mode: mode)
        }
    }

    /// What to do about an HTTP error the user can fix (a missing key, a wrong URL or model).
    private func fixHint(_ status: Int) -> String {
        status == 401 || status == 403
            ? "; set the API key in one of \(config.apiKeyEnv.joined(separator: ", "))"
            : status == 404 ? "; check llm.base_url and llm.model" : ""
    }

    /// A 2xx reply: the chat text and usage, or `.badReply` when the body is not a reply of
    /// this dialect. The exchange is recorded either way.
    private func readReply(_ outcome: HTTPOutcome, exchange: LLMExchange, exchanges: [LLMExchange],
                           mode: StructuredOutputMode) throws -> LLMResponse {
        var ex = exchange, exchanges = exchanges
        let status = outcome.status ?? 0
        do {
            let value = try JSONValue.parse(outcome.body, source: "reply")
            let reply = try dialect.parseReply(value)
            ex.responseText = redact(reply.text)
            ex.finishReason = reply.finishReason
            ex.promptTokens = reply.promptTokens
            ex.completionTokens = reply.completionTokens
            exchanges.append(ex)
            return LLMResponse(text: reply.text, finishReason: reply.finishReason, model: reply.model,
                               structuredOutput: mode, exchanges: exchanges)
        } catch {
            ex.responseText = redact(String(decoding: outcome.body.prefix(LLMExchange.maxStoredBodyChars), as: UTF8.self))
            ex.error = "not a chat reply: \(error)"
            exchanges.append(ex)
            throw LLMClientError(kind: .badReply, message: "unparsable reply from \(endpoint) (HTTP \(status)): the body is not a chat reply of the \(dialect.providerName) API: \(error)",
                                 status: status, exchanges: exchanges)
        }
    }

    /// Does an error body blame the structured-output request? (llama.cpp's server: HTTP 500
    /// whose text names `response_format` / `json_schema`; others: 400 with the parameter name.)
    static func namesResponseFormat(_ body: String) -> Bool {
        let b = body.lowercased()
        return b.contains("response_format") || b.contains("json_schema") || b.contains("responseformat")
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func parseRetryAfter(_ v: String) -> Double? {
        let t = v.trimmingCharacters(in: .whitespaces)
        if let s = Double(t), s >= 0 { return s }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let d = f.date(from: t) { return max(0, d.timeIntervalSinceNow) }
        return nil
    }

    /// min(max, base·2ⁿ⁻¹) scaled by a seeded factor in [0.5, 1): retries of parallel
    /// clients spread out, and a replay waits the same.
    func backoff(_ n: Int, _ rng: inout SeededGenerator) -> Double {
        let raw = min(config.maxBackoffSeconds, config.backoffSeconds * pow(2, Double(n - 1)))
        return raw * (0.5 + 0.5 * Double(rng.nextFloat()))
    }

    private func sleep(_ seconds: Double) async throws {
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
    }

    private func fmt(_ d: Double) -> String { String(format: "%.2f", d) }
    /// Whole seconds without a fraction ("30"), otherwise two decimals ("0.50").
    private func fmtSeconds(_ d: Double) -> String { d == d.rounded() && d < 1e9 ? String(Int(d)) : fmt(d) }

    /// The server's own explanation from an error body, on one line: `error.message` (OpenAI,
    /// llama.cpp, vLLM), `error` as a string (Ollama), `detail` (FastAPI) or `message`;
    /// otherwise the body itself. Clipped to 300 characters.
    static func serverMessage(_ body: String) -> String {
        var text = body
        if let v = try? JSONValue.parse(body, source: "error body"), case .object(let o) = v {
            if case .object(let e)? = o["error"], case .string(let m)? = e["message"] { text = m }
            else if case .string(let m)? = o["error"] { text = m }
            else if case .string(let m)? = o["detail"] { text = m }
            else if case .string(let m)? = o["message"] { text = m }
        }
        let line = text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        if line.isEmpty { return "(empty body)" }
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }

    private func describe(_ e: URLError) -> (LLMClientError.Kind, String) {
        switch e.code {
        case .timedOut:
            return (.timeout, "timeout after \(fmtSeconds(config.timeoutSeconds)) s: no reply from \(endpoint) (llm.timeout); a slow model or a long prompt needs a larger --llm-timeout or TINYFORGE_LLM_TIMEOUT")
        case .cannotFindHost, .dnsLookupFailed:
            return (.connection, "unknown host: cannot resolve \(endpoint); check TINYFORGE_LLM_URL")
        case .cannotConnectToHost, .networkConnectionLost, .notConnectedToInternet:
            return (.connection, "connection \(e.code == .networkConnectionLost ? "lost" : "refused"): cannot connect to \(endpoint): is the server running? For the local model: scripts/llm-server.sh start")
        default:
            return (.connection, "request to \(endpoint) failed: \(e.localizedDescription) (URLError \(e.code.rawValue))")
        }
    }

    func redact(_ s: String) -> String {
        guard let k = apiKey, k.count >= 4 else { return s }
        return s.replacingOccurrences(of: k, with: "[redacted]")
    }

    private func post(url: URL, body: Data) async -> HTTPOutcome {
        if url.scheme == "http", let host = url.host {
            // Plain HTTP (a local server): our own client, which waits in `poll` instead of
            // URLSession's busy dispatch loop on Linux (see `PlainHTTP`).
            var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
            if let k = apiKey { headers.append(("Authorization", "Bearer \(k)")) }
            var target = url.path.isEmpty ? "/" : url.path
            if let q = url.query { target += "?" + q }
            return await PlainHTTP.exchange(PlainHTTP.Request(
                host: host, port: url.port ?? 80, target: target, headers: headers, body: body,
                timeoutSeconds: config.timeoutSeconds, maxBodyBytes: config.maxResponseBytes))
        }
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.timeoutInterval = config.timeoutSeconds.rounded(.up) + 1
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.setValue("application/json", forHTTPHeaderField: "Accept")
        if let k = apiKey { req.setValue("Bearer \(k)", forHTTPHeaderField: "Authorization") }
        req.httpBody = body
        let start = DispatchTime.now().uptimeNanoseconds
        let session = self.session
        let timedOut = Flag()
        return await withCheckedContinuation { (cont: CheckedContinuation<HTTPOutcome, Never>) in
            let task = session.dataTask(with: req) { data, response, error in
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if let error = error {
                    // Also when headers arrived but the body broke off: nothing usable.
                    let ue = timedOut.isSet ? URLError(.timedOut) : (error as? URLError) ?? URLError(.unknown)
                    cont.resume(returning: HTTPOutcome(status: nil, error: ue, latencyMs: ms))
                } else if let http = response as? HTTPURLResponse {
                    var headers: [String: String] = [:]
                    for (k, v) in http.allHeaderFields {
                        if let ks = k as? String, let vs = v as? String { headers[ks.lowercased()] = vs }
                    }
                    cont.resume(returning: HTTPOutcome(status: http.statusCode, headers: headers, body: data ?? Data(),
                                                       error: nil, latencyMs: ms))
                } else {
                    cont.resume(returning: HTTPOutcome(status: nil, error: URLError(.badServerResponse), latencyMs: ms))
                }
            }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + config.timeoutSeconds) { [weak task] in
                guard let task = task, task.state == .running else { return }
                timedOut.set()
                task.cancel()
            }
        }
    }
}

/// A one-way flag shared between the timeout timer and the completion handler.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
