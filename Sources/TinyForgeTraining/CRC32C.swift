/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of checkpoint tensor
/// data. It detects every burst error up to 32 bits and all 1-, 2- and 3-bit flips in a
/// checkpoint of any size we write, at table-lookup speed (slicing by 8: ~1 GB/s, so a
/// multi-megabyte checkpoint costs milliseconds on load). Not a defence against tampering.
enum CRC32C {
    /// `tables[0]` is the classic byte table; `tables[j]` advances a byte j positions further.
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][n] = c
        }
        for j in 1..<8 {
            for n in 0..<256 { t[j][n] = (t[j - 1][n] >> 8) ^ t[0][Int(t[j - 1][n] & 0xFF)] }
        }
        return t
    }()

    /// Checksum of `bytes` (standard check value: "123456789" → 0xE3069283).
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let t = tables
        var i = 0
        let n = bytes.count
        t[0].withUnsafeBufferPointer { t0 in t[1].withUnsafeBufferPointer { t1 in t[2].withUnsafeBufferPointer { t2 in
        t[3].withUnsafeBufferPointer { t3 in t[4].withUnsafeBufferPointer { t4 in t[5].withUnsafeBufferPointer { t5 in
        t[6].withUnsafeBufferPointer { t6 in t[7].withUnsafeBufferPointer { t7 in
            while i + 8 <= n {
                let lo = crc ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                crc = t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)] ^ t5[Int((lo >> 16) & 0xFF)] ^ t4[Int(lo >> 24)]
                    ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])] ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
                i += 8
            }
            while i < n {
                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
        }}}}}}}}
        return ~crc
    }

    /// Eight lower-case hex digits, as stored in checkpoint metadata.
    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
