import TinyForgeDeploy
import XCTest

final class FlatBufferTests: XCTestCase {
    func testTableRoundTrip() throws {
        var b = FlatBufferBuilder(initialCapacity: 16)   // forces several grow steps
        let name = b.createString("héllo")
        let ints = b.createVector([Int32(1), -2, 3])
        let bytes = b.createVector([UInt8](repeating: 7, count: 37), alignment: 16)
        let longs = b.createVector([Int64(-1), 1 << 40])
        let floats = b.createVector([Float(0.5), -2.25])
        b.startTable()
        b.add(0, UInt8(9), default: 0)
        b.add(1, offset: name)
        b.add(2, offset: ints)
        b.add(3, Int32(5), default: 5)                // equals default: omitted
        b.add(4, offset: bytes)
        b.add(5, offset: longs)
        b.add(6, offset: floats)
        b.add(7, Float(1.5), default: 0)
        b.add(8, true, default: false)
        let child = b.endTable()
        let children = b.createVector(offsets: [child, child])
        b.startTable()
        b.add(0, offset: children)
        b.add(1, UInt32(3), default: 0)
        let root = b.endTable()
        let buf = b.finish(root: root, fileIdentifier: "TEST")

        XCTAssertEqual(buf.count % 16, 0, "finished size is padded to the largest alignment")
        let r = try FlatBufferReader(buf)
        XCTAssertEqual(r.fileIdentifier, "TEST")
        let t = try r.root()
        XCTAssertEqual(try r.field(t, 1, default: UInt32(0)), 3)
        let kids = try r.tables(t, 0)
        XCTAssertEqual(kids.count, 2)
        XCTAssertEqual(kids[0].position, kids[1].position)
        let c = kids[0]
        XCTAssertEqual(try r.field(c, 0, default: UInt8(0)), 9)
        XCTAssertEqual(try r.string(c, 1), "héllo")
        XCTAssertEqual(try r.scalars(c, 2, as: Int32.self), [1, -2, 3])
        XCTAssertNil(try r.fieldPosition(c, 3))
        XCTAssertEqual(try r.field(c, 3, default: Int32(5)), 5)
        let v = try XCTUnwrap(try r.vector(c, 4))
        XCTAssertEqual(v.count, 37)
        XCTAssertEqual(v.start % 16, 0, "force_align 16 honoured")
        XCTAssertEqual(try r.scalars(c, 4, as: UInt8.self), [UInt8](repeating: 7, count: 37))
        XCTAssertEqual(try r.scalars(c, 5, as: Int64.self), [-1, 1 << 40])
        XCTAssertEqual(try r.floats(c, 6), [0.5, -2.25])
        XCTAssertEqual(try r.floatField(c, 7, default: 0), 1.5)
        XCTAssertEqual(try r.field(c, 8, default: UInt8(0)), 1)
        XCTAssertNil(try r.fieldPosition(c, 30), "ids beyond the vtable read as absent")
    }

    func testVTablesAreShared() {
        func build(_ n: Int, sameLayout: Bool) -> Int {
            var b = FlatBufferBuilder()
            var offs = [FlatBufferBuilder.Offset]()
            for i in 0..<n {
                b.startTable()
                b.add(sameLayout ? 0 : i % 7, Int32(i + 1), default: 0)
                offs.append(b.endTable())
            }
            let v = b.createVector(offsets: offs)
            b.startTable()
            b.add(0, offset: v)
            return b.finish(root: b.endTable()).count
        }
        // 50 tables with one identical layout share one vtable; 7 layouts need 7.
        XCTAssertLessThan(build(50, sameLayout: true), build(50, sameLayout: false))
    }

    func testCorruptBufferThrows() throws {
        XCTAssertThrowsError(try FlatBufferReader([1, 2, 3]))
        let r = try FlatBufferReader([0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try r.field(try r.root(), 0, default: Int32(0)))
    }
}
