import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client for plain `http://` endpoints (a local llama.cpp, Ollama or vLLM
/// server): one POST per connection (`Connection: close`), blocking POSIX sockets on a thread of
/// its own, `poll` against one deadline for the whole exchange.
///
/// Why not URLSession: on Linux, corelibs Foundation drives libcurl from dispatch sources, and
/// while a request waits for a slow reply the socket's write source fires without end — measured
/// with `strace -c` on a search waiting for SmolLM2: ~1,200 wake-ups a second, about half a core
/// of busy waiting, taken from the local LLM server on the same 2-core machine (`perf` shows
/// `_dispatch_source_invoke` → `write` in a loop). A blocked `poll` costs nothing while it waits.
/// `https://` stays on URLSession (TLS), where the endpoint is remote anyway.
enum PlainHTTP {
    struct Request {
        var host: String
        var port: Int
        /// Path and query, e.g. `/v1/chat/completions`.
        var target: String
        var headers: [(String, String)]
        var body: Data
        /// Whole exchange: connect, send, receive.
        var timeoutSeconds: Double
        /// Stop reading past this many body bytes (the caller rejects such a reply anyway).
        var maxBodyBytes: Int
    }

    /// Runs `post` on a thread of its own (blocking calls stay off Swift's cooperative pool).
    static func exchange(_ r: Request) async -> HTTPOutcome {
        await withCheckedContinuation { (cont: CheckedContinuation<HTTPOutcome, Never>) in
            let t = Thread { cont.resume(returning: post(r)) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    static func post(_ r: Request) -> HTTPOutcome {
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(max(0, r.timeoutSeconds) * 1e9)
        func ms() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        func fail(_ code: URLError.Code) -> HTTPOutcome { HTTPOutcome(status: nil, error: URLError(code), latencyMs: ms()) }
        let fd: Int32
        switch connect(r.host, r.port, deadline: deadline) {
        case .success(let s): fd = s
        case .failure(let e): return fail(e.code)
        }
        defer { close(fd) }
        var head = "POST \(r.target) HTTP/1.1\r\nHost: \(r.host):\(r.port)\r\nContent-Length: \(r.body.count)\r\nConnection: close\r\n"
        for (k, v) in r.headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8); out.append(r.body)
        if let e = sendAll(fd, out, deadline: deadline) { return fail(e) }
        var parser = HTTPResponseParser(maxBodyBytes: r.maxBodyBytes)
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while !parser.isComplete {
            guard wait(fd, events: Int16(POLLIN), deadline: deadline) else { return fail(.timedOut) }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return fail(.networkConnectionLost) }
            if n == 0 { parser.finishAtEOF(); break }
            if !parser.feed(buf[0..<n]) { return fail(.badServerResponse) }
        }
        guard parser.isComplete, let status = parser.status else { return fail(.networkConnectionLost) }
        return HTTPOutcome(status: status, headers: parser.headers, body: parser.body, error: nil, latencyMs: ms())
    }

    /// Non-blocking connect to the first address that answers before the deadline.
    private static func connect(_ host: String, _ port: Int, deadline: UInt64) -> Result<Int32, URLError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else { return .failure(URLError(.cannotFindHost)) }
        defer { freeaddrinfo(first) }
        var lastError = URLError.Code.cannotConnectToHost
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return .success(fd) }
            if errno == EINPROGRESS {
                if wait(fd, events: Int16(POLLOUT), deadline: deadline) {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 { return .success(fd) }
                } else {
                    lastError = .timedOut
                }
            }
            close(fd)
        }
        return .failure(URLError(lastError))
    }

    private static func sendAll(_ fd: Int32, _ data: Data, deadline: UInt64) -> URLError.Code? {
        var sent = 0
        while sent < data.count {
            guard wait(fd, events: Int16(POLLOUT), deadline: deadline) else { return .timedOut }
            let n = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return .networkConnectionLost }
            sent += n
        }
        return nil
    }

    /// Blocks in `poll` until `fd` is ready for `events` (true) or the deadline passes (false).
    private static func wait(_ fd: Int32, events: Int16, deadline: UInt64) -> Bool {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { return false }
            let left = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, left)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return true }  // let read/send report the error
        }
    }
}
