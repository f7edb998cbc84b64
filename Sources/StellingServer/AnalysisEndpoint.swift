import Logging
import StellingCore
import StellingStore

extension EventService {
    /// `GET /analysis.json` (PROTOCOL.md, HTTP additions; issue 15): with the moderator key.
    static let analysisPath = "/analysis.json"

    /// The opinion analysis of the votes in the database so far, made off the service thread from
    /// a consistent read snapshot, like the exports.
    static func analysis(databasePath: String, logger: Logger) -> HTTPResponse {
        do {
            let body = try Exporter(databasePath: databasePath).analysisJSON()
            return HTTPResponse(status: 200, contentType: "application/json; charset=utf-8",
                                headers: [HTTPHeader("Cache-Control", "no-store")], body: body)
        } catch {
            logger.error("analysis failed", metadata: ["error": "\(error)"])
            return .text("The analysis could not be made; see the server log.\n", status: 500)
        }
    }
}
