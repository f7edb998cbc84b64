import Foundation
import StellingCore

/// The exports of one event (PROTOCOL.md, HTTP endpoints; docs/EXPORTS.md), made from the
/// database alone. `init` opens the database read-only and reads it in one read transaction, so
/// the exporter holds a consistent snapshot even while the server writes (WAL allows readers
/// beside the writer). Each export is then made from that snapshot without I/O.
///
/// Loading a large session takes a moment: make exporters off the service thread.
public struct Exporter: Sendable {
    /// The files `writeAll` writes, in order.
    public static let fileNames = ["results.csv", "votes.csv", "chat.csv", "questions.csv", "session.json", "report.html"]

    /// The base64 SHA-256 of report.html's `<style>` text, for `style-src 'sha256-…'`.
    public static let reportStyleHash: String = Base64.encode(SHA256.digest(Array(ReportHTML.style.utf8)))

    /// A Content-Security-Policy under which report.html shows fully: nothing but its own style.
    public static let reportContentSecurityPolicy =
        "default-src 'none'; style-src 'sha256-\(reportStyleHash)'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private(set) var snapshot: ExportSnapshot

    /// Reads the event database at `databasePath` read-only. `exportedAt` is the time written
    /// into session.json and report.html; the default is now. `names`: whether participants'
    /// names are written (PROTOCOL.md: only when asked for); the default is without.
    public init(databasePath: String, exportedAt: Instant? = nil, names: Bool = false) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw .notAnEventDatabase("there is no file \(databasePath)")
        }
        let now = exportedAt ?? Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        snapshot = try ExportSnapshot.load(databasePath: databasePath, exportedAt: now)
        snapshot.names = names
    }

    /// Whether the exports carry participants' names.
    public var names: Bool { snapshot.names }

    /// The event's title as stored.
    public var title: String { snapshot.configuration.title }

    /// results.csv: one row per statement with counts, percentages, turnout and times.
    public func resultsCSV() -> [UInt8] { snapshot.resultsCSV() }

    /// votes.csv: one row per participant and statement with the final choice and its time.
    public func votesCSV() -> [UInt8] { snapshot.votesCSV() }

    /// chat.csv: every chat message, hidden ones marked.
    public func chatCSV() -> [UInt8] { snapshot.chatCSV() }

    /// questions.csv: every question to the panel (Revision 2).
    public func questionsCSV() -> [UInt8] { snapshot.questionsCSV() }

    /// session.json: the whole event as one JSON document.
    public func sessionJSON() -> [UInt8] { snapshot.sessionJSON() }

    /// report.html: one self-contained page with charts, group breakdowns and the chat.
    public func reportHTML() -> [UInt8] { snapshot.reportHTML() }

    /// analysis.json: the opinion analysis of the votes (issue 15; docs/EXPORTS.md).
    public func analysisJSON() -> [UInt8] { snapshot.analysisJSON() }

    /// The export with this file name (one of `fileNames`), or `nil`.
    public func file(named name: String) -> [UInt8]? {
        switch name {
        case "results.csv": resultsCSV()
        case "votes.csv": votesCSV()
        case "chat.csv": chatCSV()
        case "questions.csv": questionsCSV()
        case "session.json": sessionJSON()
        case "report.html": reportHTML()
        default: nil
        }
    }

    /// The media type to serve a file of `fileNames` with.
    public static func contentType(of name: String) -> String {
        if name.hasSuffix(".csv") { return "text/csv; charset=utf-8; header=present" }
        if name.hasSuffix(".json") { return "application/json" }
        return "text/html; charset=utf-8"
    }

    /// Writes every export into `directory` (made if needed, 0700), each file replaced
    /// atomically and readable by its owner only (0600), whatever the umask.
    public func writeAll(to directory: String) throws(StoreError) {
        try PrivateFiles.makeFolder(directory)
        for name in Exporter.fileNames {
            let path = (directory as NSString).appendingPathComponent(name)
            try PrivateFiles.write(file(named: name) ?? [], to: path)
        }
    }
}

/// Standard base64 with padding (RFC 4648 section 4).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = bytes[index], b1 = remaining > 1 ? bytes[index + 1] : 0, b2 = remaining > 2 ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(remaining > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
