import StellingCore

/// Revision 2's questions in the exports: questions.csv, session.json's `questions` and
/// report.html's questions section (docs/EXPORTS.md).
extension ExportSnapshot {
    /// questions.csv: `id, at, participant, name, text, upvotes, state, answered_at`, in order of
    /// asking; `participant` and `name` empty for anonymous questions (PROTOCOL.md, Revision 2),
    /// `name` also empty unless the export was asked for names (`?names=1`).
    func questionsCSV() -> [UInt8] {
        var csv = CSVWriter()
        csv.row(["id", "at", "participant", "name", "text", "upvotes", "state", "answered_at"])
        for question in room.questions {
            csv.row([question.id.rawValue, question.at.rfc3339,
                     question.anonymous ? "" : question.asker.rawValue, question.anonymous || !names ? "" : question.name,
                     question.text, String(question.upvotes), question.state.rawValue, question.answeredAt?.rfc3339 ?? ""])
        }
        return csv.bytes
    }

    /// session.json's `questions`: every question with its asker unless anonymous (the name only
    /// with names, else `null`, like `participants[].name`).
    func writeQuestions(into json: inout JSONWriter) {
        json.key("questions")
        json.beginArray()
        for question in room.questions {
            json.beginObject()
            json.field("id", question.id.rawValue)
            json.field("at", question.at.rfc3339)
            json.key("from")
            if question.anonymous {
                json.null()
            } else {
                json.beginObject()
                json.field("id", question.asker.rawValue)
                json.field("name", names ? question.name : nil)
                json.endObject()
            }
            json.key("anonymous"); json.bool(question.anonymous)
            json.field("text", question.text)
            json.field("upvotes", question.upvotes)
            json.field("state", question.state.rawValue)
            json.field("answered_at", question.answeredAt?.rfc3339)
            json.endObject()
        }
        json.endArray()
    }

    /// report.html's questions section: every question not dismissed or pending, most upvoted first
    /// (ties in order of asking), with its state; anonymous ones without a name.
    func questionsSection(language: String) -> String {
        let english = language.lowercased().hasPrefix("en")
        let title = english ? "Questions to the panel" : "Vragen aan het panel"
        let none = english ? "No questions." : "Geen vragen."
        let anonymous = english ? "anonymous" : "anoniem"
        let upvotes = english ? "upvotes" : "stemmen"
        let stateNames: [QuestionState: String] = english
            ? [.open: "open", .live: "live", .answered: "answered", .pending: "pending", .dismissed: "dismissed"]
            : [.open: "open", .live: "live", .answered: "beantwoord", .pending: "wacht", .dismissed: "afgewezen"]
        var html = "<section class=\"questions\">\n<h2>\(title)</h2>\n"
        let shown = room.questions.filter { $0.state.isPublic }
            .sorted { ($0.upvotes, -($0.id.number ?? 0)) > ($1.upvotes, -($1.id.number ?? 0)) }
        guard !shown.isEmpty else { return html + "<p class=\"empty\">\(none)</p>\n</section>\n" }
        let hiddenCount = room.questions.count - shown.count
        if hiddenCount > 0 {
            html += english
                ? "<p class=\"meta\">\(hiddenCount) dismissed or unapproved questions are in questions.csv.</p>\n"
                : "<p class=\"meta\">\(hiddenCount) afgewezen of niet goedgekeurde vragen staan in questions.csv.</p>\n"
        }
        html += "<ol class=\"messages\">\n"
        for question in shown {
            html += "<li class=\"message\" id=\"question-\(ReportHTML.escape(question.id.rawValue))\">"
            html += "<span class=\"time\">\(ReportHTML.clock(question.at))</span> "
            let asker = names ? question.name : question.asker.rawValue
            html += "<span class=\"name\">\(question.anonymous ? anonymous : ReportHTML.escape(asker))</span>"
            html += "<span class=\"tag\">\(question.upvotes) \(upvotes)</span>"
            html += "<span class=\"tag\">\(stateNames[question.state] ?? question.state.rawValue)</span>"
            html += "<p class=\"text\">\(ReportHTML.escape(question.text))</p></li>\n"
        }
        return html + "</ol>\n</section>\n"
    }
}
