import StellingCore

/// report.html: one self-contained page, no scripts, no external resources, inline SVG charts.
/// Its only style is one `<style>` element with fixed text, so the server can allow it by hash
/// under a Content-Security-Policy (`Exporter.reportStyleHash`). There are no `style`
/// attributes; SVG colours are presentation attributes, which CSP does not govern.
enum ReportHTML {
    /// The text of the page's `<style>` element, exactly; its hash goes into the CSP.
    static let style = """
        :root{color-scheme:light;--agree:#2e7d32;--disagree:#c62828;--pass:#757575;--line:#d0d0d0}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:60rem;padding:1.5rem;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;background:#fff}
        h1{font-size:1.8rem;margin:0 0 .25rem}
        h2{font-size:1.25rem;margin:0 0 .25rem}
        h3{font-size:1rem;margin:1rem 0 .25rem}
        .meta{color:#555;margin:.25rem 0 .75rem}
        .position{display:block;font-size:.85rem;font-weight:600;color:#555}
        section{border-top:1px solid var(--line);padding:1.25rem 0}
        svg{display:block;width:100%;height:auto;max-width:40rem}
        svg text{font:13px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1a1a1a}
        svg .axis{fill:#555;font-size:11px}
        table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
        th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:right}
        th:first-child,td:first-child{text-align:left}
        tfoot td{font-weight:600}
        .empty{color:#555;font-style:italic}
        .messages{list-style:none;margin:0;padding:0}
        .message{padding:.4rem 0;border-bottom:1px solid #eee}
        .message .text{margin:.1rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere}
        .time,.about{color:#555;font-size:.85rem}
        .name{font-weight:600}
        .tag{display:inline-block;font-size:.75rem;border:1px solid #999;border-radius:.25rem;padding:0 .3rem;margin-left:.3rem;color:#444}
        .hidden .text{text-decoration:line-through;color:#777}
        @media print{body{max-width:none;padding:0;font-size:10pt}section{break-inside:avoid;page-break-inside:avoid}.chat{break-inside:auto;page-break-inside:auto}.message{break-inside:avoid}svg{max-width:16cm;print-color-adjust:exact;-webkit-print-color-adjust:exact}}
        """

    /// The page's words in the configured language (Dutch unless `en`).
    struct Labels {
        var agree, disagree, pass, statement, exportedAt, participants, votes, messages: String
        var opened, closed, stillOpen, neverShown, voters, present, turnout, byGroup, group, total, withoutGroup: String
        var movement, noVotes, chat, noChat, hiddenNote, hidden, moderator, about, chartLabel: String
        var decimalSeparator: String
        var withNames, withoutNames: String
        var smallGroupsNote: String
        var secretBallot: String

        /// The note under a group table with withheld groups.
        func smallGroups(_ minimum: Int) -> String {
            smallGroupsNote.split(separator: "N", omittingEmptySubsequences: false).joined(separator: String(minimum))
        }

        static let dutch = Labels(
            agree: "Eens", disagree: "Oneens", pass: "Geen mening", statement: "Stelling", exportedAt: "Geëxporteerd op",
            participants: "deelnemers", votes: "stemmen", messages: "chatberichten", opened: "Geopend", closed: "gesloten",
            stillOpen: "stemming nog open", neverShown: "Niet getoond.", voters: "stemmers", present: "aanwezig", turnout: "opkomst",
            byGroup: "Per groep", group: "Groep", total: "Totaal", withoutGroup: "Zonder groep",
            movement: "Verloop van de stemming", noVotes: "Geen stemmen.", chat: "Chat", noChat: "Geen chatberichten.",
            hiddenNote: "Berichten die een moderator verborg, staan doorgestreept.", hidden: "verborgen",
            moderator: "moderator", about: "bij", chartLabel: "Uitslag", decimalSeparator: ",",
            withNames: "Export met namen van deelnemers.",
            withoutNames: "Export zonder namen: deelnemers staan er alleen met hun id in.",
            smallGroupsNote: "Groepen met minder dan N stemmers worden niet getoond.",
            secretBallot: "Geheime stemming: na het sluiten zijn alleen de aantallen bewaard, niet wie wat koos.")

        static let english = Labels(
            agree: "Agree", disagree: "Disagree", pass: "Pass", statement: "Statement", exportedAt: "Exported on",
            participants: "participants", votes: "votes", messages: "chat messages", opened: "Opened", closed: "closed",
            stillOpen: "voting still open", neverShown: "Not shown.", voters: "voters", present: "present", turnout: "turnout",
            byGroup: "By group", group: "Group", total: "Total", withoutGroup: "No group",
            movement: "How the vote moved", noVotes: "No votes.", chat: "Chat", noChat: "No chat messages.",
            hiddenNote: "Messages a moderator hid are struck through.", hidden: "hidden",
            moderator: "moderator", about: "on", chartLabel: "Result", decimalSeparator: ".",
            withNames: "Export with participants' names.",
            withoutNames: "Export without names: participants appear by their id only.",
            smallGroupsNote: "Groups with fewer than N voters are not shown.",
            secretBallot: "Secret ballot: once voting closed only the counts were kept, not who chose what.")

        static func forLanguage(_ language: String) -> Labels { language.lowercased().hasPrefix("en") ? english : dutch }
    }

    static let colours: [(Choice, String)] = [(.agree, "#2e7d32"), (.disagree, "#c62828"), (.pass, "#757575")]

    /// Escapes text for HTML content and attribute values.
    static func escape(_ text: String) -> String { TextRules.markupEscaped(text) }

    /// `13:05:00` of an instant (UTC).
    static func clock(_ instant: Instant) -> String { String(instant.rfc3339.dropFirst(11).prefix(8)) }

    /// `2021-01-15 13:05 UTC` of an instant.
    static func dateTime(_ instant: Instant) -> String {
        let text = instant.rfc3339
        return "\(text.prefix(10)) \(text.dropFirst(11).prefix(5)) UTC"
    }
}

extension ExportSnapshot {
    /// report.html (docs/EXPORTS.md).
    func reportHTML() -> [UInt8] {
        let labels = ReportHTML.Labels.forLanguage(configuration.language)
        let language = configuration.language.lowercased().hasPrefix("en") ? "en" : "nl"
        let voteCount = room.statements.reduce(0) { $0 + $1.counts.total }
        var html = """
            <!DOCTYPE html>
            <html lang="\(language)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(ReportHTML.escape(configuration.title))</title>
            <style>\(ReportHTML.style)</style>
            </head>
            <body>
            <header>
            <h1>\(ReportHTML.escape(configuration.title))</h1>
            <p class="meta">\(labels.exportedAt) \(ReportHTML.dateTime(exportedAt)) · \(participantOrder.count) \(labels.participants) · \(voteCount) \(labels.votes) · \(room.chat.count) \(labels.messages)</p>
            <p class="meta" id="names">\(names ? labels.withNames : labels.withoutNames)</p>
            </header>
            <main>

            """
        html += analysisSection(language: language)
        for statement in room.statements {
            html += statementSection(statement, labels: labels)
        }
        html += questionsSection(language: configuration.language)
        html += chatSection(labels: labels)
        html += "</main>\n</body>\n</html>\n"
        return Array(html.utf8)
    }

    private func percentText(_ count: Int, of total: Int, _ labels: ReportHTML.Labels) -> String {
        let value = Numbers.percent(count, of: total)
        guard !value.isEmpty else { return "–" }
        return value.replacingDot(with: labels.decimalSeparator) + "%"
    }

    private func statementSection(_ statement: StatementState, labels: ReportHTML.Labels) -> String {
        var html = "<section class=\"statement\" id=\"statement-\(ReportHTML.escape(statement.id.rawValue))\">\n"
        html += "<h2><span class=\"position\">\(labels.statement) \(statement.position) · \(ReportHTML.escape(statement.id.rawValue))</span>"
        html += "\(ReportHTML.escape(statement.text))</h2>\n"
        guard let openedAt = statement.openedAt else {
            return html + "<p class=\"meta\">\(labels.neverShown)</p>\n</section>\n"
        }
        let counts = statement.counts
        var meta = "\(labels.opened) \(ReportHTML.clock(openedAt))"
        if let closedAt = statement.closedAt {
            meta += " · \(labels.closed) \(ReportHTML.clock(closedAt)) (UTC)"
        } else {
            meta += " (UTC)"
            if isOpen(statement) { meta += " · \(labels.stillOpen)" }
        }
        meta += " · \(counts.total) \(labels.voters)"
        if let present = present(for: statement) {
            meta += " · \(present) \(labels.present)"
            if present > 0 { meta += " · \(labels.turnout) \(percentText(counts.total, of: present, labels))" }
        }
        html += "<p class=\"meta\">\(meta)</p>\n"
        html += barChart(counts, labels: labels)
        if let groups = groupCounts(of: statement) {
            html += groupTable(groups, total: counts, withheld: withheldGroups(of: statement), labels: labels)
        }
        html += "<h3>\(labels.movement)</h3>\n"
        html += sealed.contains(statement.id) ? "<p class=\"empty\">\(labels.secretBallot)</p>\n" : timelineChart(statement, labels: labels)
        return html + "</section>\n"
    }

    /// A horizontal bar per choice with its count and percentage of the voters.
    private func barChart(_ counts: Counts, labels: ReportHTML.Labels) -> String {
        let names = [labels.agree, labels.disagree, labels.pass]
        let values = [counts.agree, counts.disagree, counts.pass]
        let summary = zip(names, values).map { "\($0) \($1) (\(percentText($1, of: counts.total, labels)))" }.joined(separator: ", ")
        var svg = "<svg class=\"bars\" viewBox=\"0 0 640 96\" role=\"img\" aria-label=\"\(ReportHTML.escape(labels.chartLabel + ": " + summary))\">\n"
        let barStart = 130.0, barWidth = 380.0
        for (row, (name, value)) in zip(names, values).enumerated() {
            let y = Double(row) * 30
            let width = counts.total > 0 ? barWidth * Double(value) / Double(counts.total) : 0
            svg += "<text x=\"0\" y=\"\(format(y + 20))\">\(ReportHTML.escape(name))</text>"
            svg += "<rect x=\"\(format(barStart))\" y=\"\(format(y + 6))\" width=\"\(format(barWidth))\" height=\"20\" fill=\"#eeeeee\"/>"
            svg += "<rect x=\"\(format(barStart))\" y=\"\(format(y + 6))\" width=\"\(format(width))\" height=\"20\" fill=\"\(ReportHTML.colours[row].1)\"/>"
            svg += "<text x=\"\(format(barStart + barWidth + 8))\" y=\"\(format(y + 20))\">\(value) (\(percentText(value, of: counts.total, labels)))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func groupTable(
        _ groups: [(name: String, counts: Counts)], total: Counts, withheld: Set<String?>, labels: ReportHTML.Labels
    ) -> String {
        func cells(_ counts: Counts) -> String {
            [counts.agree, counts.disagree, counts.pass].map { "<td>\($0) (\(percentText($0, of: counts.total, labels)))</td>" }.joined()
                + "<td>\(counts.total)</td>"
        }
        let small = "<td colspan=\"4\">&lt; \(configuration.privacy.minGroupSize)</td>"
        var html = "<h3>\(labels.byGroup)</h3>\n<table class=\"groups\">\n<thead><tr><th>\(labels.group)</th><th>\(labels.agree)</th>"
        html += "<th>\(labels.disagree)</th><th>\(labels.pass)</th><th>\(labels.voters)</th></tr></thead>\n<tbody>\n"
        var grouped = Counts()
        for group in groups {
            html += "<tr><td>\(ReportHTML.escape(group.name))</td>\(withheld.contains(group.name) ? small : cells(group.counts))</tr>\n"
            grouped.agree += group.counts.agree
            grouped.disagree += group.counts.disagree
            grouped.pass += group.counts.pass
        }
        let without = Counts(agree: total.agree - grouped.agree, disagree: total.disagree - grouped.disagree, pass: total.pass - grouped.pass)
        if without.total > 0 {
            html += "<tr><td>\(labels.withoutGroup)</td>\(withheld.contains(nil) ? small : cells(without))</tr>\n"
        }

        html += "</tbody>\n<tfoot><tr><td>\(labels.total)</td>\(cells(total))</tr></tfoot>\n</table>\n"
        if !withheld.isEmpty { html += "<p class=\"meta\">\(labels.smallGroups(configuration.privacy.minGroupSize))</p>\n" }
        return html
    }

    /// A step chart of the running agree, disagree and pass counts over time; a changed vote
    /// moves one count from its old choice to its new one.
    private func timelineChart(_ statement: StatementState, labels: ReportHTML.Labels) -> String {
        guard let steps = timeline[statement.id], let first = steps.first, let last = steps.last else {
            return "<p class=\"empty\">\(labels.noVotes)</p>\n"
        }
        let start = min(statement.openedAt ?? first.at, first.at).milliseconds
        var end = max(last.at.milliseconds, statement.closedAt?.milliseconds ?? 0)
        if end <= start { end = start + 1000 }
        let left = 44.0, right = 630.0, top = 28.0, bottom = 170.0
        func x(_ milliseconds: Int64) -> Double { left + (right - left) * Double(milliseconds - start) / Double(end - start) }

        // Running counts, keeping only the last state per half pixel so a large session stays small.
        var counts = Counts()
        var highest = 1
        var points: [(x: Double, counts: Counts)] = [(x(start), counts)]
        for step in steps {
            if let from = step.from { counts.add(from, -1) }
            counts.add(step.to, 1)
            highest = max(highest, counts.agree, counts.disagree, counts.pass)
            let px = (x(step.at.milliseconds) * 2).rounded() / 2
            if let previous = points.last, previous.x == px {
                points[points.count - 1].counts = counts
            } else {
                points.append((px, counts))
            }
        }
        points.append((right, counts))
        func y(_ value: Int) -> Double { bottom - (bottom - top) * Double(value) / Double(highest) }

        let names = [labels.agree, labels.disagree, labels.pass]
        var svg = "<svg class=\"timeline\" viewBox=\"0 0 640 200\" role=\"img\" aria-label=\"\(ReportHTML.escape(labels.movement))\">\n"
        svg += "<line x1=\"\(format(left))\" y1=\"\(format(bottom))\" x2=\"\(format(right))\" y2=\"\(format(bottom))\" stroke=\"#999999\"/>"
        svg += "<line x1=\"\(format(left))\" y1=\"\(format(top))\" x2=\"\(format(right))\" y2=\"\(format(top))\" stroke=\"#e0e0e0\"/>\n"
        svg += "<text class=\"axis\" x=\"\(format(left - 6))\" y=\"\(format(top + 4))\" text-anchor=\"end\">\(highest)</text>"
        svg += "<text class=\"axis\" x=\"\(format(left - 6))\" y=\"\(format(bottom + 4))\" text-anchor=\"end\">0</text>"
        svg += "<text class=\"axis\" x=\"\(format(left))\" y=\"192\">\(ReportHTML.clock(Instant(milliseconds: start)))</text>"
        svg += "<text class=\"axis\" x=\"\(format(right))\" y=\"192\" text-anchor=\"end\">\(ReportHTML.clock(Instant(milliseconds: end))) UTC</text>\n"
        for (index, (choice, colour)) in ReportHTML.colours.enumerated() {
            var coordinates: [String] = []
            var previousY: Double?
            for point in points {
                let value: Int
                switch choice {
                case .agree: value = point.counts.agree
                case .disagree: value = point.counts.disagree
                case .pass: value = point.counts.pass
                }
                let pointY = y(value)
                if let previousY, previousY != pointY { coordinates.append("\(format(point.x)),\(format(previousY))") }
                coordinates.append("\(format(point.x)),\(format(pointY))")
                previousY = pointY
            }
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
            let legendX = left + Double(index) * 150
            svg += "<rect x=\"\(format(legendX))\" y=\"4\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(format(legendX + 17))\" y=\"15\">\(ReportHTML.escape(names[index]))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func chatSection(labels: ReportHTML.Labels) -> String {
        var html = "<section class=\"chat\">\n<h2>\(labels.chat)</h2>\n"
        guard !room.chat.isEmpty else { return html + "<p class=\"empty\">\(labels.noChat)</p>\n</section>\n" }
        if room.chat.contains(where: \.hidden) { html += "<p class=\"meta\">\(labels.hiddenNote)</p>\n" }
        html += "<ol class=\"messages\">\n"
        for message in room.chat {
            html += "<li class=\"message\(message.hidden ? " hidden" : "")\" id=\"message-\(message.id.rawValue)\">"
            html += "<span class=\"time\">\(ReportHTML.clock(message.at))</span> "
            html += "<span class=\"name\">\(ReportHTML.escape(names ? message.from.name : message.from.id.rawValue))</span>"
            if message.from.role == .moderator { html += "<span class=\"tag\">\(labels.moderator)</span>" }
            if message.hidden { html += "<span class=\"tag\">\(labels.hidden)</span>" }
            if let statement = message.statement {
                html += " <span class=\"about\">\(labels.about) \(ReportHTML.escape(statement.rawValue))</span>"
            }
            html += "<p class=\"text\">\(ReportHTML.escape(message.text))</p></li>\n"
        }
        return html + "</ol>\n</section>\n"
    }

    /// A coordinate with at most one decimal, "." as separator.
    private func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return tenths % 10 == 0 ? "\(sign)\(abs(tenths) / 10)" : "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

extension String {
    /// The text with its "." replaced (for a decimal separator).
    func replacingDot(with separator: String) -> String {
        separator == "." ? self : split(separator: ".", omittingEmptySubsequences: false).joined(separator: separator)
    }
}
