import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) that replays scripted replies, one
/// per connection, and records what it received. POSIX sockets, one thread per connection,
/// every wait bounded (poll timeouts), so a broken client cannot hang the test run.
final class LoopbackHTTPServer: @unchecked Sendable {
    enum Reply {
        case respond(status: Int, headers: [String: String], body: Data)
        /// Read the request, never answer (until `stop` or `hangSeconds`).
        case hang
        /// Accept and close at once without a byte.
        case close

        static func json(_ status: Int = 200, _ body: String, headers: [String: String] = [:]) -> Reply {
            .respond(status: status, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Data(body.utf8))
        }
    }

    struct Received {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
    }

    let port: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var replies: [Reply]
    private var _received: [Received] = []
    private var stopped = false
    private var openFDs: Set<Int32> = []
    var hangSeconds: Double = 10

    var received: [Received] { lock.lock(); defer { lock.unlock() }; return _received }

    /// `replies` are used in order; the last one repeats.
    init(_ replies: [Reply]) throws {
        self.replies = replies
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: bound.sin_port)
        listenFD = fd
        let t = Thread { [unowned self] in self.acceptLoop() }
        t.start()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A port with nothing listening (bound once, then closed): connections are refused.
    static func closedPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        return UInt16(bigEndian: addr.sin_port)
    }

    func stop() {
        lock.lock()
        stopped = true
        let fds = openFDs
        lock.unlock()
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        shutdown(listenFD, Int32(SHUT_RDWR))
    }

    deinit { stop(); close(listenFD) }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func acceptLoop() {
        while !isStopped {
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let c = accept(listenFD, nil, nil)
            if c < 0 { if isStopped { return }; continue }
            lock.lock()
            let reply = replies.count > 1 ? replies.removeFirst() : replies[0]
            openFDs.insert(c)
            lock.unlock()
            let t = Thread { [unowned self] in self.serve(c, reply) }
            t.start()
        }
    }

    private func serve(_ fd: Int32, _ reply: Reply) {
        defer {
            lock.lock(); openFDs.remove(fd); lock.unlock()
            close(fd)
        }
        if case .close = reply { return }
        guard let req = readRequest(fd) else { return }
        lock.lock(); _received.append(req); lock.unlock()
        switch reply {
        case .close: return
        case .hang:
            let deadline = Date().addingTimeInterval(hangSeconds)
            var buf = [UInt8](repeating: 0, count: 256)
            while Date() < deadline && !isStopped {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 100) > 0 { if read(fd, &buf, buf.count) <= 0 { return } }  // client gave up
            }
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            for (k, v) in headers { head += "\(k): \(v)\r\n" }
            head += "\r\n"
            writeAll(fd, Array(head.utf8) + [UInt8](body))
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads one request (headers, then Content-Length or chunked body), answering
    /// `Expect: 100-continue`. nil when the client sent nothing usable within 5 s.
    private func readRequest(_ fd: Int32) -> Received? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(5)
        func fill() -> Bool {
            while Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 100) > 0 {
                    let n = read(fd, &buf, buf.count)
                    if n <= 0 { return false }
                    data += buf[0..<n]; return true
                }
                if isStopped { return false }
            }
            return false
        }
        let sep: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let r = find(sep, in: data) { headerEnd = r; break }
            if !fill() { return nil }
        }
        let headText = String(decoding: data[0..<headerEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let first = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for l in lines { if let i = l.firstIndex(of: ":") { headers[l[..<i].lowercased()] = l[l.index(after: i)...].trimmingCharacters(in: .whitespaces) } }
        if headers["expect"]?.lowercased() == "100-continue" { writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        var body = Array(data[(headerEnd! + 4)...])
        if let cl = headers["content-length"].flatMap(Int.init) {
            while body.count < cl { let before = data.count; if !fill() { break }; body += data[before...] }
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while find([48, 13, 10, 13, 10], in: body) == nil { let before = data.count; if !fill() { break }; body += data[before...] }
            body = dechunk(body)
        }
        return Received(method: first.first.map(String.init) ?? "", path: first.count > 1 ? String(first[1]) : "",
                        headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    private func dechunk(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < b.count, let lineEnd = find([13, 10], in: Array(b[i...])) {
            let size = Int(String(decoding: b[i..<(i + lineEnd)], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            let start = i + lineEnd + 2
            out += b[start..<min(b.count, start + size)]
            i = start + size + 2
        }
        return out
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    static func reason(_ s: Int) -> String {
        [200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
         500: "Internal Server Error", 503: "Service Unavailable"][s] ?? "Status"
    }
}
