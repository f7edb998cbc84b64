import Logging
import StellingCore
import StellingStore

extension EventService {
    /// `GET /analysis.json` (PROTOCOL.md, HTTP additions; issue 15): with the moderator key.
    static let analysisPath = "/analysis.json"

    /// The last analysis made per database, with the store's durable sequence when it was read:
    /// consoles poll every 10 s, and nothing changed means nothing to read again.
    static let analysisCache = AnalysisResponseCache()

    /// The opinion analysis of the votes in the database so far, made off the service thread from
    /// a consistent read snapshot, like the exports. `durableSequence` is the store's durable
    /// sequence read before the snapshot: the answer is reused until it grows.
    static func analysis(databasePath: String, durableSequence: UInt64, logger: Logger) -> HTTPResponse {
        if let cached = analysisCache.response(for: databasePath, at: durableSequence) { return cached }
        do {
            let body = try Exporter(databasePath: databasePath).analysisJSON()
            let response = HTTPResponse(status: 200, contentType: "application/json; charset=utf-8",
                                        headers: [HTTPHeader("Cache-Control", "no-store")], body: body)
            analysisCache.keep(response, for: databasePath, at: durableSequence)
            return response
        } catch {
            logger.error("analysis failed", metadata: ["error": "\(error)"])
            return .text("The analysis could not be made; see the server log.\n", status: 500)
        }
    }
}

/// The latest `/analysis.json` answer per database and the durable sequence it covers.
final class AnalysisResponseCache: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: (sequence: UInt64, response: HTTPResponse)] = [:]

    /// The kept answer when it was made at exactly this durable sequence.
    func response(for path: String, at sequence: UInt64) -> HTTPResponse? {
        lock.withLock { entries[path].flatMap { $0.sequence == sequence ? $0.response : nil } }
    }

    /// Keeps an answer made at a durable sequence (replacing an older one).
    func keep(_ response: HTTPResponse, for path: String, at sequence: UInt64) {
        lock.withLock {
            if let existing = entries[path], existing.sequence > sequence { return }
            entries[path] = (sequence, response)
        }
    }
}
