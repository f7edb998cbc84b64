import Dispatch
import Foundation
import Logging
import StellingCore
import StellingLWS
import StellingStore
import Synchronization

extension EventService {
    /// `GET /analysis.json` (PROTOCOL.md, HTTP additions; issue 15): with the moderator key.
    static let analysisPath = "/analysis.json"

    /// The last analysis made per database, with the store's durable sequence when it was read:
    /// consoles poll every 10 s; nothing changed means nothing to read again, and an answer under
    /// 5 s old is reused anyway, so several consoles cost at most one analysis per 5 s.
    static let analysisCache = AnalysisResponseCache()

    /// The opinion analysis of the votes in the database so far, made off the service thread from
    /// a consistent read snapshot, like the exports. `durableSequence` is the store's durable
    /// sequence read before the snapshot: the answer is reused until it grows (or for 5 s).
    static func analysis(databasePath: String, durableSequence: UInt64, logger: Logger) -> HTTPResponse {
        let now = DispatchTime.now().uptimeNanoseconds
        if let cached = analysisCache.response(for: databasePath, at: durableSequence, now: now) { return cached }
        do {
            let body = try Exporter(databasePath: databasePath).analysisJSON()
            let response = HTTPResponse(status: 200, contentType: "application/json; charset=utf-8",
                                        headers: [HTTPHeader("Cache-Control", "no-store")], body: body)
            analysisCache.keep(response, for: databasePath, at: durableSequence, now: now)
            return response
        } catch {
            logger.error("analysis failed", metadata: ["error": "\(error)"])
            return .text("The analysis could not be made; see the server log.\n", status: 500)
        }
    }
}

/// The latest `/analysis.json` answer per database, the durable sequence it covers and when it
/// was made (monotonic nanoseconds).
final class AnalysisResponseCache: Sendable {
    /// One kept answer: the durable sequence it covers, when it was made, the answer.
    struct Entry {
        var sequence: UInt64
        var madeAt: UInt64
        var response: HTTPResponse
    }

    /// How long an answer is reused even when newer records exist. The default is 5 s.
    let maximumAge: UInt64
    private let entries = Mutex<[String: Entry]>([:])

    init(maximumAgeNanoseconds: UInt64 = 5_000_000_000) { maximumAge = maximumAgeNanoseconds }

    /// The kept answer when it was made at this durable sequence, or less than `maximumAge` ago.
    func response(for path: String, at sequence: UInt64, now: UInt64) -> HTTPResponse? {
        entries.withLock { entries in
            guard let entry = entries[path] else { return nil }
            return entry.sequence == sequence || now &- entry.madeAt < maximumAge ? entry.response : nil
        }
    }

    /// Keeps an answer made at a durable sequence (replacing an older one).
    func keep(_ response: HTTPResponse, for path: String, at sequence: UInt64, now: UInt64) {
        entries.withLock { entries in
            if let existing = entries[path], existing.sequence > sequence { return }
            entries[path] = Entry(sequence: sequence, madeAt: now, response: response)
        }
    }
}
