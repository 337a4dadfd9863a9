import Foundation

/// Incremental HTTP/1.1 response reader for `PlainHTTP`: status line, headers (names lowercased),
/// then the body framed by `Content-Length`, `Transfer-Encoding: chunked`, or the end of the
/// connection. Bytes past `maxBodyBytes` are not kept (the body then holds `maxBodyBytes + 1`
/// bytes, enough for the caller to see that the reply is too large).
struct HTTPResponseParser {
    let maxBodyBytes: Int
    private(set) var status: Int?
    private(set) var headers: [String: String] = [:]
    private(set) var body = Data()
    private(set) var isComplete = false
    private var pending = Data()
    private var inBody = false
    private var contentLength: Int?
    private var chunked = false
    private var chunkLeft = 0          // bytes left in the current chunk (+2 for its CRLF once started)
    private var readingChunkSize = true
    private var received = 0

    init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    /// Feeds bytes; false when the response is not HTTP/1.x.
    mutating func feed(_ bytes: ArraySlice<UInt8>) -> Bool {
        pending.append(contentsOf: bytes)
        if !inBody {
            guard let end = pending.range(of: Data("\r\n\r\n".utf8)) else { return pending.count < 64 << 10 }
            guard parseHead(pending[pending.startIndex..<end.lowerBound]) else { return false }
            pending = Data(pending[end.upperBound...])
            inBody = true
            if status == 204 || status == 304 || contentLength == 0 { isComplete = true; return true }
        }
        if chunked { return readChunks() }
        keep(pending); pending.removeAll(keepingCapacity: true)
        if let n = contentLength, received >= n { isComplete = true }
        return true
    }

    /// The peer closed the connection: a body framed by the close is complete now.
    mutating func finishAtEOF() {
        if inBody && !chunked && contentLength == nil { isComplete = true }
    }

    private mutating func keep(_ d: Data) {
        received += d.count
        let room = maxBodyBytes + 1 - body.count
        if room > 0 { body.append(d.prefix(room)) }
    }

    private mutating func parseHead(_ head: Data) -> Bool {
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else { return false }
        status = code
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let k = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let v = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[k] = v
        }
        chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        if !chunked, let cl = headers["content-length"] { contentLength = Int(cl) }
        return true
    }

    private mutating func readChunks() -> Bool {
        while true {
            if readingChunkSize {
                guard let eol = pending.range(of: Data("\r\n".utf8)) else { return pending.count < 1024 }
                let line = String(decoding: pending[pending.startIndex..<eol.lowerBound], as: UTF8.self)
                guard let size = Int(line.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
                pending = Data(pending[eol.upperBound...])
                if size == 0 { isComplete = true; return true }  // trailers are not read: Connection: close
                chunkLeft = size + 2
                readingChunkSize = false
            }
            if pending.isEmpty { return true }
            let take = min(chunkLeft, pending.count)
            let dataPart = max(0, min(take, chunkLeft - 2))
            keep(pending.prefix(dataPart))
            pending = Data(pending.dropFirst(take))
            chunkLeft -= take
            if chunkLeft == 0 { readingChunkSize = true } else { return true }
        }
    }
}
