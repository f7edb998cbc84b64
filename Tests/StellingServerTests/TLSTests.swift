import Foundation
import StellingCore
import Testing
@testable import StellingServer
@testable import StellingLWS
import StellingTesting

/// HTTPS and WSS through libwebsockets' OpenSSL, with a self-signed certificate made by
/// `openssl req` for the test; checked with `curl -k` and the client pool's wss://.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TLSTests {
    /// A fresh folder holding cert.pem and key.pem for CN=127.0.0.1, valid one day.
    static func makeCertificate() throws -> (folder: URL, files: TLSFiles) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelling-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let result = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                                  "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", certificate])
        guard result.status == 0 else { throw TestFailure("openssl req failed: \(result.output)") }
        return (folder, TLSFiles(certificatePath: certificate, privateKeyPath: key))
    }

    /// Runs a program to its end (bounded by its own options) and returns status and output.
    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func httpsServesPagesWithHSTSAndTheSecurityHeaders() throws {
        let (folder, files) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        try withServer(configure: { $0.tls = files }) { _, _, port in
            let healthz = try Self.run("/usr/bin/curl", ["-k", "-s", "-i", "--max-time", "5", "--http1.1",
                                                         "https://127.0.0.1:\(port)/healthz"])
            #expect(healthz.status == 0)
            let lines = healthz.output.split(separator: "\r\n").map { $0.lowercased() }
            #expect(lines.first?.hasPrefix("http/1.1 200") == true)
            #expect(lines.contains("strict-transport-security: max-age=31536000"))
            #expect(lines.contains("x-frame-options: deny"))
            #expect(lines.contains { $0.hasPrefix("content-security-policy: default-src 'self'") })
            #expect(healthz.output.hasSuffix("{\"status\":\"ok\"}"))
            let page = try Self.run("/usr/bin/curl", ["-k", "-s", "--max-time", "5", "https://127.0.0.1:\(port)/"])
            #expect(page.output == "<h1>participant</h1>")
            // Plain HTTP on the TLS port is not served.
            let plain = try Self.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                                       "http://127.0.0.1:\(port)/healthz"])
            #expect(plain.output != "200")
        }
    }

    @Test func curlWithoutTheCertificateRefusesIt() throws {
        let (folder, files) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        try withServer(configure: { $0.tls = files }) { _, _, port in
            // Verifying against the certificate itself works; against the system store it fails.
            let trusted = try Self.run("/usr/bin/curl", ["-s", "--max-time", "5", "--cacert", files.certificatePath,
                                                         "https://127.0.0.1:\(port)/healthz"])
            #expect(trusted.output == "{\"status\":\"ok\"}")
            let untrusted = try Self.run("/usr/bin/curl", ["-s", "--max-time", "5", "https://127.0.0.1:\(port)/healthz"])
            #expect(untrusted.status != 0)
        }
    }

    @Test func aParticipantJoinsOverWSS() throws {
        let (folder, files) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        let event = try LiveEvent(tls: files)
        #expect(event.url.hasPrefix("wss://"))
        let (client, welcome) = try event.participant("Anna", group: "Rijk")
        #expect(welcome.object("you")?.string("name") == "Anna")
        client.send(#"{"type":"chat","text":"over TLS","ref":"c"}"#)
        #expect(try client.expect("ack").string("ref") == "c")
        #expect(try client.expect("chat").object("message")?.string("text") == "over TLS")
    }

    @Test func aMissingCertificateIsAClearStartupError() throws {
        let (folder, files) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        var missing = files
        missing.certificatePath = folder.appendingPathComponent("absent.pem").path
        let error = try #require(throws: TransportError.self) {
            try withServer(configure: { $0.tls = missing }) { _, _, _ in }
        }
        #expect(error.description == "cannot read the TLS certificate \(missing.certificatePath): No such file or directory")

        var folderAsKey = files
        folderAsKey.privateKeyPath = folder.path
        let notAFile = try #require(throws: TransportError.self) {
            try withServer(configure: { $0.tls = folderAsKey }) { _, _, _ in }
        }
        #expect(notAFile.description.hasPrefix("cannot read the TLS private key \(folder.path)"))
    }

    @Test func aCertificateThatIsNotPEMIsAClearStartupError() throws {
        let (folder, files) = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: files.certificatePath))
        let error = try #require(throws: TransportError.self) {
            try withServer(configure: { $0.tls = files }) { _, _, _ in }
        }
        #expect(error.description.contains("with TLS"))
        #expect(error.description.contains(files.certificatePath))
    }
}
