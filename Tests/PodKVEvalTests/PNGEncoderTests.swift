import Foundation
import XCTest
@testable import PodKVEval

final class PNGEncoderTests: XCTestCase {
    func testKnownChecksums() {
        // CRC-32 of "IEND" and Adler-32 of "Wikipedia" are well-known constants.
        XCTAssertEqual(PNGEncoder.crc32(Array("IEND".utf8)), 0xAE42_6082)
        XCTAssertEqual(PNGEncoder.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
    }

    func testPNGDecodesWithPython() throws {
        // Decode with Python's zlib and check a pixel, when python3 is present (it is, on every machine
        // this project supports: the model store needs it).
        var c = Canvas(width: 300, height: 260)
        c.fill(x: 10, y: 20, w: 5, h: 5, RGB(1, 2, 3))
        c.text("AUC 0.5%", x: 40, y: 40, scale: 2)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-\(UUID()).png").path
        try c.write(to: path)
        let script = """
        import zlib,struct,sys
        d=open(sys.argv[1],'rb').read(); assert d[:8]==b'\\x89PNG\\r\\n\\x1a\\n'
        i=8; idat=b''
        while i<len(d):
            n=struct.unpack('>I',d[i:i+4])[0]; t=d[i+4:i+8]; body=d[i+8:i+8+n]
            assert zlib.crc32(t+body)==struct.unpack('>I',d[i+8+n:i+12+n])[0]
            if t==b'IHDR': w,h=struct.unpack('>II',body[:8])
            if t==b'IDAT': idat+=body
            i+=12+n
        raw=zlib.decompress(idat); row=1+w*3; p=raw[20*row+1+12*3:20*row+1+12*3+3]
        print(w,h,list(p))
        """
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        proc.standardOutput = pipe
        try proc.run()
        proc.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(proc.terminationStatus, 0)
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "300 260 [1, 2, 3]")
    }
}
