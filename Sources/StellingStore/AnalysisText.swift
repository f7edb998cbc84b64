import StellingAnalysis
import StellingCore

extension Exporter {
    /// The analysis as plain text for `stelling analyse`: the reading, the statements, the camps.
    /// `language` is nl or en; the default is the event's.
    public func analysisText(language: String? = nil) -> String {
        let language = language ?? (snapshot.configuration.language.lowercased().hasPrefix("en") ? "en" : "nl")
        let analysis = snapshot.analysis()
        let nl = language == "nl"
        func number(_ value: Double?) -> String {
            guard let value else { return "-" }
            let hundredths = Int((value * 100).rounded())
            return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        }
        var lines = [snapshot.configuration.title, ""]
        lines += analysis.reading(language: language).map { "  " + $0 }
        guard !analysis.participants.isEmpty else { return lines.joined(separator: "\n") }
        lines += ["", nl ? "Stellingen (eens / oneens / geen mening; verdeeldheid; overeenstemming kampen; overeenstemming groepen):"
                         : "Statements (agree / disagree / pass; divisiveness; camp consensus; group consensus):"]
        for statement in analysis.statements {
            lines.append("  \(statement.id)  \(statement.agree) / \(statement.disagree) / \(statement.pass)  "
                + "\(number(statement.divisiveness))  \(number(statement.groupConsensus))  \(number(statement.configuredGroupConsensus))  \(statement.text)")
        }
        for group in analysis.opinionGroups {
            lines += ["", nl ? "Kamp \(group.id): \(group.size) deelnemers" : "Camp \(group.id): \(group.size) participants"]
            for share in group.byGroup {
                lines.append("  \(share.group): \(share.count)" + (share.share.map { " (\(Int(($0 * 100).rounded()))%)" } ?? ""))
            }
            for representative in group.representative {
                let text = analysis.statements.first { $0.id == representative.statement }?.text ?? ""
                let verb = representative.direction == .agree ? (nl ? "eens" : "agrees") : (nl ? "oneens" : "disagrees")
                lines.append("  \(verb) \(representative.statement) (repness \(number(representative.repness)), z \(number(representative.z))): \(text)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
