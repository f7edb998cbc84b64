import Foundation
import StellingCore
@testable import StellingServer
import Testing
@testable import StellingLWS
import StellingTesting

/// Runs a program from PATH and returns its exit status and standard output.
private func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Decodes an SVG QR code for real: rsvg-convert (librsvg2-bin) renders it to PNG, zbarimg
/// (zbar-tools) reads it. Both are installed by `make deps`.
private func decodeQR(svg: [UInt8]) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-qr-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let svgPath = folder.appendingPathComponent("qr.svg").path
    let pngPath = folder.appendingPathComponent("qr.png").path
    try Data(svg).write(to: URL(fileURLWithPath: svgPath))
    let render = try runTool("rsvg-convert", ["-w", "400", "-h", "400", "-o", pngPath, svgPath])
    guard render.status == 0 else { throw TestFailure("rsvg-convert failed with \(render.status)") }
    let read = try runTool("zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", pngPath])
    guard read.status == 0 else { throw TestFailure("zbarimg found no QR code (status \(read.status))") }
    return read.output.trimmingCharacters(in: .newlines)
}

@Suite(.timeLimit(.minutes(1)))
struct JoinCodeTests {
    @Test(arguments: ["https://seminar.example.nl/", "http://127.0.0.1:8080/", "https://x.nl/" + String(repeating: "pad/", count: 60)])
    func theSymbolDecodesToTheTextWithARealDecoder(text: String) throws {
        let code = try #require(QRCode(text: text))
        #expect(try decodeQR(svg: Array(code.svg().utf8)) == text)
    }

    @Test func theModulesAreLibqrencodesOwn() throws {
        // qrencode's own command line (-t ASCII: "##" dark, "  " light, one line a row).
        let text = "https://seminar.example.nl/"
        let cli = try runTool("qrencode", ["-l", "M", "-8", "-m", "0", "-t", "ASCII", text])
        try #require(cli.status == 0)
        let rows = cli.output.split(separator: "\n").map { line in
            stride(from: 0, to: line.count, by: 2).map { line[line.index(line.startIndex, offsetBy: $0)] == "#" }
        }
        let code = try #require(QRCode(text: text))
        #expect(rows.count == code.size)
        #expect(rows.flatMap { $0 } == code.modules)
    }

    @Test func aTextTooLongForAnySymbolIsRefused() {
        #expect(QRCode(text: String(repeating: "a", count: 3000)) == nil)
    }

    @Test(arguments: [
        (nil as String?, "127.0.0.1:8080", false, "http://127.0.0.1:8080/" as String?),
        (nil, "seminar.example.nl", true, "https://seminar.example.nl/"),
        (nil, "[::1]:8443", true, "https://[::1]:8443/"),
        ("https://seminar.example.nl/zaal/", "evil.example", false, "https://seminar.example.nl/zaal/"),
        (nil, nil, false, nil),
        (nil, "", false, nil),
        (nil, "evil.example/\"><script>", false, nil),
        (nil, "host name", false, nil),
    ])
    func theAddressIsPublicURLOrTheHostTheBrowserUsed(publicURL: String?, host: String?, secure: Bool, expected: String?) {
        #expect(JoinAddress.resolve(publicURL: publicURL, host: host, secure: secure) == expected)
    }

    @Test func qrSVGShowsTheConfiguredPublicURL() throws {
        var configuration = LiveEvent.configuration()
        configuration.publicURL = "https://seminar.example.nl/"
        let event = try LiveEvent(configuration: configuration)
        let response = try event.http("/qr.svg")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("image/svg+xml") == true)
        #expect(response.headers["cache-control"] == "no-store")
        #expect(try decodeQR(svg: response.body) == "https://seminar.example.nl/")
        let info = String(decoding: try event.http("/event.json").body, as: UTF8.self)
        #expect(info.contains("\"public_url\":\"https://seminar.example.nl/\""))
    }

    @Test func withoutPublicURLQRSVGShowsTheAddressTheBrowserUsed() throws {
        let event = try LiveEvent()
        let response = try event.http("/qr.svg")
        #expect(response.status == 200)
        #expect(try decodeQR(svg: response.body) == "http://127.0.0.1:\(event.port)/")
        #expect(response.headers["x-stelling-address"] == "http://127.0.0.1:\(event.port)/")
    }
}
